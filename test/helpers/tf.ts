/** Tests run on the WASM backend (the CPU workhorse) unless BERT_TEST_BACKEND names another. */
import { selectBackend, type BackendRequest } from '../../src/backend/select.js';

export async function useTestBackend(): Promise<string> {
  const request = (process.env.BERT_TEST_BACKEND ?? 'wasm') as BackendRequest;
  const choice = await selectBackend(request);
  return choice.backend;
}

/**
 * The Ink dashboard: paints `dashboardLines` inside a rounded frame and
 * turns `q` / Ctrl-C into a stop request. It renders state it is given and
 * never reaches into the trainer.
 */
import { Box, Text, useInput, useStdin } from 'ink';
import type { DashboardState } from './state.js';
import { dashboardLines, styleLine } from './view.js';

export interface DashboardProps {
  state: DashboardState;
  nowMs: number;
  /** Terminal size; the frame never exceeds it. */
  columns: number;
  rows: number;
  rssBytes?: number;
  /** Colour the text (a terminal that wants it; see `wantsColor`). */
  color?: boolean;
  onStop?: (reason: string) => void;
}

/** Frame width: the terminal's, capped so very wide terminals don't stretch the bars. */
export const MAX_WIDTH = 120;
const FRAME_X = 4; // two border columns + one column of padding each side
const FRAME_Y = 2;

export function Dashboard(props: DashboardProps) {
  const width = Math.max(20, Math.min(props.columns, MAX_WIDTH));
  // One row is left free: a frame as tall as the terminal scrolls it by a line on every repaint.
  const height = Math.max(3, props.rows - 1);
  const lines = dashboardLines(props.state, {
    nowMs: props.nowMs,
    width: width - FRAME_X,
    height: height - FRAME_Y,
    rssBytes: props.rssBytes,
  });
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="gray" paddingX={1} width={width}>
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate">
          {styleLine(line, props.color ?? false)}
        </Text>
      ))}
      {props.onStop ? <StopKeys onStop={props.onStop} /> : null}
    </Box>
  );
}

/** Listens for q / Ctrl-C only where raw mode works (a real terminal on stdin). */
function StopKeys({ onStop }: { onStop: (reason: string) => void }) {
  const { isRawModeSupported } = useStdin();
  return isRawModeSupported ? <KeyListener onStop={onStop} /> : null;
}

function KeyListener({ onStop }: { onStop: (reason: string) => void }) {
  useInput((input, key) => {
    if (input === 'q' || input === 'Q') onStop('q pressed');
    else if (key.ctrl && input === 'c') onStop('Ctrl-C');
  });
  return null;
}

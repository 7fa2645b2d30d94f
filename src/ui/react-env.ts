/**
 * Imported before Ink/React wherever they load: React picks its development
 * or production build from NODE_ENV when first loaded, and the development
 * build (prop checks, performance marks) makes each dashboard render several
 * times slower. A user who set NODE_ENV keeps theirs.
 */
process.env.NODE_ENV ??= 'production';
export {};

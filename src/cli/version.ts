import pkg from '../../package.json' with { type: 'json' }

/** The package version, inlined at build time. */
export const CLI_VERSION: string = pkg.version

/** The agent's version, reported by the CLI and GET /api/v1/status. */
export const version = '0.1.0';

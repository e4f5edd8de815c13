// Working values `bindflow dev` sets for the local stack (never for production).
export const DEV_API_TOKEN = 'dev-token';
export const DEV_CALLBACK_SECRET = 'dev-callback-secret';
export const DEV_PORTS = { temporal: 7233, ui: 8233, simulator: 9080, api: 3000, metrics: 9464 } as const;

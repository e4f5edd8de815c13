import type { PrivateNumberClient } from '../provider';

/** What the activities need of the provider client (the real one, or a wrapper in tests). */
export type ProviderPort = Pick<PrivateNumberClient, 'bindAx' | 'bindYb' | 'unbind' | 'query' | 'recordingUrl'>;

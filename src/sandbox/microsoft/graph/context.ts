import type { Faults } from '../../common/faults.ts';
import type { OAuthStore } from '../../common/oauth.ts';
import type { MsStore } from '../store.ts';

export interface GraphContext {
  store: MsStore;
  oauth: OAuthStore;
  faults: Faults;
}

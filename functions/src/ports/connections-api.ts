/** API Gateway's @connections API: how a handler talks back to sockets. */
export interface ConnectionsApi {
  /** `gone` when the connection no longer exists (API Gateway's 410 GoneException). */
  post(connectionId: string, data: unknown): Promise<'sent' | 'gone'>;
  disconnect(connectionId: string): Promise<'closed' | 'gone'>;
}

export default async function teardown(): Promise<void> {
  await globalThis.__BINDFLOW_DEV_SERVER__?.stop();
}

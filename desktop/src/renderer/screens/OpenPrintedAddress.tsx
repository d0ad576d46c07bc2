/** Browser mode without the access key: a tab opened by hand, or one whose key a restarted Revtrail no longer takes. */
export function OpenPrintedAddress({ stale }: { stale: boolean }) {
  return (
    <main className="page">
      <section className="card">
        <h1>Open the address Revtrail printed</h1>
        <p>
          {stale
            ? 'The access key this tab held is no longer valid: Revtrail has been restarted since.'
            : 'This tab has no access key, so it cannot reach your data.'}{' '}
          Open the address Revtrail printed in the terminal where you started it (<code>npm start</code>): it carries the access key,
          after <code>#token=</code>.
        </p>
        <p className="muted">
          The key stays in this tab only, until you close it, and is never sent as a cookie, so no other program on this computer
          receives it.
        </p>
      </section>
    </main>
  );
}

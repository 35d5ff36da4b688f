/** One figure with a label, optionally linking to where it comes from. */
export function StatCard(
  { label, value, href }: { label: string; value: string | number; href?: string },
) {
  const body = (
    <>
      <span class="stat-value">{value}</span>
      <span class="stat-label">{label}</span>
    </>
  );
  return href ? <a class="card stat" href={href}>{body}</a> : <div class="card stat">{body}</div>;
}

import { maskNumber } from '../provider/mask';
import type { BindingView } from '../workflows/types';
import type { BindingListItem } from './library';

/** Human-readable binding; party numbers masked unless `showNumbers`. Privacy numbers X/Y are not personal. */
export function formatBinding(b: BindingView, showNumbers = false): string {
  const n = (v: string | null) => (v ? (showNumbers ? v : maskNumber(v)) : '-');
  const lines = [
    `order ${b.orderId}  (${b.workflowId})`,
    `  state         ${b.state}${b.failure ? ` — ${b.failure.reason}` : ''}`,
    `  subscription  ${b.subscriptionId ?? '-'}`,
    `  A ${n(b.partyA)}  ⇄  X ${b.numberX ?? '-'}`,
    ...b.parties.map((p) => `  B[${p.label}] ${n(p.number)}  ⇄  Y ${p.numberY ?? '-'}`),
    `  expires       ${b.expiresAt}`,
    `  calls         ${b.calls.length}`,
    ...b.calls.map(
      (c) =>
        `    ${c.startedAt ?? '?'}  ${c.direction.padEnd(8)} ${c.outcome.padEnd(12)} ${String(c.talkSeconds).padStart(4)} s` +
        (c.recordingUrl ? `  recording: ${c.recordingUrl}` : ''),
    ),
  ];
  return lines.join('\n');
}

export function formatList(items: BindingListItem[]): string {
  if (!items.length) return 'no bindings';
  const rows = items.map((i) => [
    i.orderId,
    i.state ?? '-',
    i.numberX ?? '-',
    i.numbersY.join(',') || '-',
    i.expiresAt ?? '-',
  ]);
  const head = ['ORDER', 'STATE', 'X', 'Y', 'EXPIRES'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  return [head, ...rows].map((r) => r.map((v, c) => v.padEnd(widths[c])).join('  ')).join('\n');
}

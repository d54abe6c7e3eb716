import t from 'tap';
import { PutTimingCollector } from '../runner/puts.js';

t.test("kept renders' PUTs and replies, from the Generator's lines only", async (t) => {
  const c = new PutTimingCollector();
  t.same(c.summary(), { kept: 0, failed: 0, putMs: undefined, replyMs: undefined }, 'nothing seen: no figure');
  for (let i = 1; i <= 20; i++) c.line(JSON.stringify({ msg: 'generated', ms: 30 + i, putMs: i, stored: i !== 7 }));
  c.line(JSON.stringify({ msg: 'generated', ms: 99 })); // not kept: no PUT
  c.line(JSON.stringify({ msg: 'something else', ms: 1, putMs: 500 }));
  c.line('not json "putMs"');
  t.same(c.summary(), { kept: 20, failed: 1, putMs: { p50: 10, p95: 19 }, replyMs: { p50: 40, p95: 49 } });
});

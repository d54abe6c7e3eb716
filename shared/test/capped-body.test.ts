import t from 'tap';
import { readCapped } from '../src/capped-body.js';

/** A body of `chunks` chunks of 1 KiB that counts how many were pulled from it. */
function body(chunks: number) {
  const state = { pulled: 0, destroyed: false };
  async function* gen() {
    for (let i = 0; i < chunks; i++) {
      state.pulled++;
      yield new Uint8Array(1024).fill(i);
    }
  }
  return { state, iterable: gen(), destroy: () => (state.destroyed = true) };
}

t.test('a body within the cap: every byte, in order', async (t) => {
  const b = body(4);
  const bytes = await readCapped(b.iterable, 4096, b.destroy);
  t.equal(bytes?.length, 4096);
  t.equal(bytes?.[3072], 3);
  t.notOk(b.state.destroyed);
});

t.test('past the cap: undefined, destroyed, and nothing read beyond the chunk that passed it', async (t) => {
  const b = body(1000);
  t.equal(await readCapped(b.iterable, 4096, b.destroy), undefined);
  t.ok(b.state.destroyed, 'the body is destroyed');
  t.equal(b.state.pulled, 5, 'the fifth KiB passed 4 KiB: no sixth was pulled');
});

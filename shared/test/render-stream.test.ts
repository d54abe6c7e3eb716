import t from 'tap';
import {
  MAX_PRELUDE_BYTES,
  PreludeSplitter,
  collectRenderStream,
  failureBody,
  failurePrelude,
  parseFailureBody,
  renderFacts,
  successPrelude,
  type RenderPrelude,
} from '@marquee/shared';

/** A prelude as Lambda's `HttpResponseStream.from` writes it: JSON, then eight NUL bytes. */
const wire = (prelude: RenderPrelude) => Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8)]);

const facts = {
  contentType: 'image/webp',
  bytes: 5,
  width: 342,
  height: 513,
  fetchMs: 1.5,
  renderMs: 20.25,
  coldStart: true,
};

t.test('a prelude and body split at any chunk boundary, body bytes untouched (NULs included)', async (t) => {
  const body = Buffer.from([0, 0, 0, 0, 0]);
  const bytes = Buffer.concat([wire(successPrelude(facts)), body]);
  for (let cut = 1; cut < bytes.length; cut++) {
    const split = new PreludeSplitter();
    split.push(bytes.subarray(0, cut));
    split.push(bytes.subarray(cut));
    t.equal(split.prelude?.statusCode, 200, `cut at ${cut}`);
    t.same(split.bodyBuffer(), body, `cut at ${cut}`);
  }
  const split = new PreludeSplitter();
  for (const byte of bytes) split.push(Buffer.from([byte]));
  t.same(renderFacts(split.prelude as RenderPrelude), facts, 'byte by byte: the facts round-trip');
});

t.test('no prelude within the bound, or a malformed one, is the Generator failing (502)', async (t) => {
  const split = new PreludeSplitter();
  t.throws(() => split.push(Buffer.alloc(MAX_PRELUDE_BYTES + 1, 0x20)), { code: 'GENERATOR_FAILED' });
  t.throws(() => new PreludeSplitter().push(Buffer.concat([Buffer.from('{nope'), Buffer.alloc(8)])), {
    code: 'GENERATOR_FAILED',
  });
  const noSize = successPrelude(facts);
  delete noSize.headers['content-length'];
  t.throws(() => renderFacts(noSize), { code: 'GENERATOR_FAILED' });
});

t.test('a failure reply: its status, a body that names the code; anything else is not ours', async (t) => {
  const body = failureBody('SOURCE_NOT_FOUND', 'NoSuchKey');
  t.equal(failurePrelude(body, 404).statusCode, 404);
  t.same(parseFailureBody(Buffer.from(body)), { code: 'SOURCE_NOT_FOUND', status: 404, message: 'NoSuchKey' });
  t.equal(parseFailureBody(Buffer.from('{"code":"NOPE","message":"x"}')), undefined);
  t.equal(parseFailureBody(Buffer.from('<html>')), undefined);
});

t.test('a whole stream is collected to its InvokeComplete; a function error wins', async (t) => {
  async function* events(error?: string) {
    yield { PayloadChunk: { Payload: wire(successPrelude({ ...facts, bytes: 0, stored: 'derivatives/x.webp' })) } };
    yield { InvokeComplete: error ? { ErrorCode: error, ErrorDetails: 'killed' } : {} };
  }
  const ok = await collectRenderStream(events(), 1024);
  t.ok('prelude' in ok && ok.prelude.statusCode === 200 && renderFacts(ok.prelude).stored === 'derivatives/x.webp');
  t.same(await collectRenderStream(events('Runtime.ExitError'), 1024), { functionError: 'Runtime.ExitError: killed' });
});

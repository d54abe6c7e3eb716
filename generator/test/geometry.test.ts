import t from 'tap';
import { FITS, type ImageSpec } from '@marquee/shared';
import {
  ATTENTION_PIXELS,
  attentionFocal,
  attentionView,
  intermediatePixels,
  needsAttention,
  pixelBound,
  plan,
  targetBox,
  type Geometry,
  type PixelSize,
} from '../src/steps/geometry.js';
import { checkPlan } from '../src/steps/render.js';

const spec = (s: Partial<ImageSpec>): ImageSpec => ({
  width: 300,
  height: 300,
  fit: 'cover',
  format: 'webp',
  quality: 80,
  ...s,
});
const inside = (src: PixelSize, r: { left: number; top: number; width: number; height: number }) =>
  r.left >= 0 &&
  r.top >= 0 &&
  r.width >= 1 &&
  r.height >= 1 &&
  r.left + r.width <= src.width &&
  r.top + r.height <= src.height;

t.test('every plan holds at most source + output pixels, and its cuts lie inside what they cut', async (t) => {
  const sources: PixelSize[] = [
    { width: 20000, height: 10 },
    { width: 10, height: 20000 },
    { width: 40000, height: 10 },
    { width: 10, height: 40000 },
    { width: 65000, height: 1 },
    { width: 1, height: 1 },
    { width: 1200, height: 800 },
    { width: 100, height: 150 },
    { width: 6000, height: 4000 },
  ];
  const outputs: PixelSize[] = [
    { width: 300, height: 300 },
    { width: 342, height: 513 },
    { width: 8192, height: 8192 },
    { width: 8192, height: 1 },
    { width: 1, height: 1 },
  ];
  const focals = [undefined, { x: 0, y: 0 }, { x: 0.3, y: 0.5 }, { x: 1, y: 1 }];
  let checked = 0;
  for (const src of sources) {
    for (const out of outputs) {
      for (const fit of FITS) {
        for (const focal of focals) {
          for (const enlarge of [undefined, false]) {
            const s = spec({
              ...out,
              fit,
              ...(focal === undefined ? {} : { focal }),
              ...(enlarge === undefined ? {} : { enlarge }),
            });
            const g = plan(src, s, undefined);
            const what = `${src.width}x${src.height} ${fit} ${out.width}x${out.height} focal=${JSON.stringify(focal)} enlarge=${enlarge}`;
            if (intermediatePixels(g) > pixelBound(src, out)) t.fail(`intermediate bounded: ${what}`);
            if (!inside(src, g.window)) t.fail(`window inside the source: ${what}`);
            if (g.pre !== undefined && !inside(src, g.pre)) t.fail(`pre-cut inside the source: ${what}`);
            if (g.post !== undefined && !inside(g.scaled, g.post)) t.fail(`post-cut inside the scaled image: ${what}`);
            if (g.width < 1 || g.height < 1 || g.width > out.width || g.height > out.height)
              t.fail(`frame size: ${what}`);
            checkPlan(src, out, g);
            checked++;
          }
        }
      }
    }
  }
  t.equal(checked, sources.length * outputs.length * FITS.length * focals.length * 2, 'every combination checked');
});

t.test('an enlarging cover cuts its window from the source, then scales only that', async (t) => {
  const src = { width: 20000, height: 10 };
  const g = plan(src, spec({ focal: { x: 0.3, y: 0.5 } }), undefined);
  t.same(g.window, { left: 5995, top: 0, width: 10, height: 10 }, 'a 10x10 window centred on the focal point');
  t.same(g.pre, g.window, 'cut before the resize');
  t.match(g.resize, { width: 300, height: 300, fit: 'fill' });
  t.equal(g.post, undefined);
  t.equal(intermediatePixels(g), 300 * 300, 'nothing larger than the output');
  const tall = plan({ width: 10, height: 20000 }, spec({ focal: { x: 0.5, y: 1 } }), undefined);
  t.same(tall.pre, { left: 0, top: 19990, width: 10, height: 10 }, 'clamped inside at the far edge');
});

t.test(
  'a shrinking cover scales first (shrink-on-load) and cuts after; a whole-source window is never cut',
  async (t) => {
    const focal = plan(
      { width: 1600, height: 800 },
      spec({ width: 400, height: 400, focal: { x: 0.125, y: 0.5 } }),
      undefined,
    );
    t.equal(focal.pre, undefined, 'no pre-resize cut: libvips may shrink on load');
    t.match(focal.resize, { width: 800, height: 400, fit: 'fill' });
    t.same(focal.post, { left: 0, top: 0, width: 400, height: 400 }, 'clamped at the left edge');
    const attention = plan({ width: 1600, height: 800 }, spec({ width: 400, height: 400 }), undefined);
    t.match(attention, {
      pre: undefined,
      post: undefined,
      resize: { width: 400, height: 400, fit: 'cover' },
      scaled: { width: 800, height: 400 },
    });
    t.notOk(needsAttention(spec({ width: 400, height: 400 }), attention), 'sharp places the crop during the resize');
    const whole = plan({ width: 4000, height: 6000 }, spec({ width: 342, height: 513 }), undefined);
    t.match(
      whole,
      { pre: undefined, post: undefined, resize: { width: 342, height: 513, fit: 'fill' } },
      'same aspect: one resize',
    );
  },
);

t.test('the old plan shape (enlarge the whole strip, then cut) is refused', async (t) => {
  const src = { width: 20000, height: 10 };
  const old: Geometry = {
    window: { left: 0, top: 0, width: 10, height: 10 },
    pre: undefined,
    resize: { width: 600000, height: 300, fit: 'fill' },
    scaled: { width: 600000, height: 300 },
    post: { left: 0, top: 0, width: 300, height: 300 },
    width: 300,
    height: 300,
  };
  t.ok(
    intermediatePixels(old) > pixelBound(src, { width: 300, height: 300 }),
    '600000x300 is far more than 20000x10 + 300x300',
  );
  t.throws(
    () => checkPlan(src, { width: 300, height: 300 }, old),
    { code: 'INTERNAL' },
    'refused as a bug, before any pixel is decoded',
  );
});

t.test('attention runs on a bounded view of the source whose crop maps back', async (t) => {
  for (const src of [
    { width: 20000, height: 10 },
    { width: 10, height: 40000 },
    { width: 40000, height: 100 },
    { width: 2000, height: 100 },
  ]) {
    const g = plan(src, spec({}), undefined);
    t.ok(needsAttention(spec({}), g), `${src.width}x${src.height}: enlarging, so attention is found before the cut`);
    const v = attentionView(src, g);
    t.ok(
      v.view.width * v.view.height <= Math.min(src.width * src.height, ATTENTION_PIXELS),
      `${src.width}x${src.height}: view bounded`,
    );
    t.ok(v.box.width <= v.view.width && v.box.height <= v.view.height, 'box inside the view');
    t.ok(v.box.width === v.view.width || v.box.height === v.view.height, 'box spans the view on one axis: a pure crop');
  }
  const src = { width: 20000, height: 10 };
  const v = attentionView(src, plan(src, spec({}), undefined));
  t.same(v, { view: { width: 20000, height: 10 }, box: { width: 10, height: 10 } }, 'a small source is its own view');
  const focal = attentionFocal(v, 14995, 0);
  t.same(
    plan(src, spec({}), undefined, focal).pre,
    { left: 14995, top: 0, width: 10, height: 10 },
    'the crop maps back',
  );
});

t.test('enlarge: false renders the same picture at the source resolution', async (t) => {
  const no = { enlarge: false } as const;
  const size = (src: PixelSize, s: Partial<ImageSpec>) => {
    const g = plan(src, spec({ ...no, ...s }), undefined);
    if (s.fit !== 'inside')
      t.same(
        targetBox(src, spec({ ...no, ...s })),
        { width: g.width, height: g.height },
        'the target box is the frame',
      );
    return { width: g.width, height: g.height };
  };
  t.same(
    size({ width: 100, height: 150 }, { width: 342, height: 513 }),
    { width: 100, height: 150 },
    'cover: the window at 1:1',
  );
  t.same(size({ width: 20000, height: 10 }, {}), { width: 10, height: 10 }, 'cover of a strip: the 10x10 window');
  t.same(size({ width: 1200, height: 800 }, {}), { width: 300, height: 300 }, 'cover that shrinks: unchanged');
  t.same(
    size({ width: 300, height: 100 }, { fit: 'contain', width: 600, height: 600 }),
    { width: 300, height: 300 },
    'contain: the frame shrinks with the picture',
  );
  t.same(
    size({ width: 1200, height: 800 }, { fit: 'contain', width: 600, height: 600 }),
    { width: 600, height: 600 },
    'contain that shrinks: unchanged',
  );
  t.same(
    size({ width: 100, height: 100 }, { fit: 'fill', width: 300, height: 150 }),
    { width: 100, height: 50 },
    'fill: no axis enlarged, same distortion',
  );
  t.same(
    size({ width: 100, height: 150 }, { fit: 'inside', width: 342, height: 513 }),
    { width: 100, height: 150 },
    'inside: never enlarged anyway',
  );
  t.same(size({ width: 1, height: 1 }, { width: 8192, height: 1 }), { width: 1, height: 1 }, 'at least 1');
  const g = plan({ width: 100, height: 150 }, spec({ ...no, width: 342, height: 513 }), undefined);
  t.match(g, { pre: undefined, post: undefined, resize: { width: 100, height: 150 } }, 'no enlargement at all');
  t.same(
    plan({ width: 100, height: 150 }, spec({ width: 342, height: 513 }), undefined).width,
    342,
    'absent: may enlarge',
  );
});

import { Type } from '@sinclair/typebox';
import { FITS, FORMATS, MAX_OUTPUT_DIMENSION } from '@marquee/shared';

/**
 * The image parameters of a `/v1/render` URL: one definition for the route that serves it and
 * the studio endpoint that signs it, so nothing is signed that the route would refuse.
 */
export const RENDER_PARAMS = {
  w: Type.Integer({ minimum: 1, maximum: MAX_OUTPUT_DIMENSION }),
  h: Type.Integer({ minimum: 1, maximum: MAX_OUTPUT_DIMENSION }),
  fit: Type.Optional(Type.Union(FITS.map((f) => Type.Literal(f)))),
  fmt: Type.Optional(Type.Union(FORMATS.map((f) => Type.Literal(f)))),
  q: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  fx: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  fy: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
};

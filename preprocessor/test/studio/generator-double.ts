import sharp from 'sharp';
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { contentTypeOf, type GeneratorRequest } from '@marquee/shared';
import { isDryRun, requestOf, streamedOutput, type DoubleReply } from '../lambda-double.js';

/**
 * A Lambda client double for studio tests: renders a real image of the spec's size and format,
 * a flat colour with each overlay drawn as a white block at its corner, `scale` × width wide. So
 * a badge changed in a draft changes the bytes (and only the badge's pixels) as the real
 * Generator would, without the Generator. The end-to-end test runs the real one.
 */
export interface GeneratorDouble {
  lambda: LambdaClient;
  invocations: GeneratorRequest[];
}

/** The double's render: the spec's size and format, each overlay a white block at its corner. */
export async function renderDouble(request: GeneratorRequest): Promise<DoubleReply> {
  const { width, height, format, quality, overlays = [] } = request.spec;
  const blocks = overlays.map((o) => {
    const w = Math.max(1, Math.round(o.scale * width));
    const h = Math.max(1, Math.round(w / 2));
    const left = o.gravity.includes('east') ? width - w : 0;
    const top = o.gravity.includes('south') ? height - h : 0;
    return {
      input: { create: { width: w, height: h, channels: 3 as const, background: '#ffffff' } },
      left: Math.max(0, left),
      top: Math.max(0, top),
    };
  });
  const body = await sharp({ create: { width, height, channels: 3, background: '#336699' } })
    .composite(blocks)
    .toFormat(format, format === 'avif' ? { effort: 0, quality } : { quality })
    .toBuffer();
  return { ok: true, contentType: contentTypeOf(format), width, height, body };
}

export function generatorDouble(): GeneratorDouble {
  const invocations: GeneratorRequest[] = [];
  const lambda = {
    async send(command: InvokeCommand) {
      if (isDryRun(command)) return { StatusCode: 204 };
      const request = requestOf(command);
      invocations.push(request);
      return streamedOutput(await renderDouble(request));
    },
    destroy() {},
  } as unknown as LambdaClient;
  return { lambda, invocations };
}

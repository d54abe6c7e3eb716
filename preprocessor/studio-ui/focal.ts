import type { FocalPoint } from '@marquee/shared';

/** Arrow keys move the focal point by 1 % of the source; with Shift, by 10 %. */
const STEP = 0.01;
const BIG_STEP = 0.1;

const clamp = (v: number) => Math.min(1, Math.max(0, Math.round(v * 10_000) / 10_000));

/**
 * The focal point after a key press on the preview, or undefined when the key is not one that
 * moves it. Without a point yet, the first press starts from the centre. Home puts it back there.
 */
export function moveFocal(focal: FocalPoint | undefined, key: string, big: boolean): FocalPoint | undefined {
  const from = focal ?? { x: 0.5, y: 0.5 };
  const step = big ? BIG_STEP : STEP;
  switch (key) {
    case 'ArrowLeft':
      return { x: clamp(from.x - step), y: from.y };
    case 'ArrowRight':
      return { x: clamp(from.x + step), y: from.y };
    case 'ArrowUp':
      return { x: from.x, y: clamp(from.y - step) };
    case 'ArrowDown':
      return { x: from.x, y: clamp(from.y + step) };
    case 'Home':
      return { x: 0.5, y: 0.5 };
    default:
      return undefined;
  }
}

/** The point under a click on the preview's box. */
export function focalAt(box: DOMRect, clientX: number, clientY: number): FocalPoint {
  return { x: clamp((clientX - box.left) / box.width), y: clamp((clientY - box.top) / box.height) };
}

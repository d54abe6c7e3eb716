import { MAX_ACCEPT_LENGTH } from '@marquee/shared';

/**
 * CloudFront Functions (cloudfront-js-2.0) as source text, so tests can run the same bytes
 * that CloudFront runs. Plain ES5-style JavaScript: the runtime is not Node.
 */

/**
 * Viewer request on /v1/artwork/*: the cache key holds `Accept`, so collapse it to what the
 * Preprocessor distinguishes: which of AVIF and WebP the client accepts (q > 0), nothing else.
 * Both are kept when both are accepted, because the Preprocessor negotiates against each type's
 * own format list (a type without AVIF must still get WebP). For an explicit extension the
 * Preprocessor ignores `Accept`, so it is removed and the URL alone is the key. `auto` costs at
 * most four cache entries per URL. It reads the header by the origin's rules (`@marquee/shared`'s
 * accept module; both are tested against one table of headers), so a request gets the same
 * format through the CDN as straight from the origin.
 */
export const ACCEPT_NORMALISER_CODE = `function accepts(accept, type) {
  var parts = accept.slice(0, ${MAX_ACCEPT_LENGTH}).toLowerCase().split(',');
  for (var i = 0; i < parts.length; i++) {
    var params = parts[i].split(';');
    if (params[0].trim() !== type) continue;
    var q = 1;
    for (var j = 1; j < params.length; j++) {
      var kv = params[j].split('=');
      if (kv[0].trim() !== 'q' || kv.length < 2) continue;
      var value = kv[1].trim();
      var n = Number(value);
      if (value !== '' && isFinite(n)) q = Math.min(1, Math.max(0, n));
    }
    if (q > 0) return true;
  }
  return false;
}

function negotiate(accept) {
  var avif = accepts(accept, 'image/avif');
  var webp = accepts(accept, 'image/webp');
  if (avif && webp) return 'image/avif,image/webp';
  if (avif) return 'image/avif';
  if (webp) return 'image/webp';
  return 'image/jpeg';
}

function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var dot = uri.lastIndexOf('.');
  var ext = dot === -1 ? '' : uri.slice(dot + 1).toLowerCase();
  if (ext === 'auto') {
    var header = request.headers['accept'];
    request.headers['accept'] = { value: negotiate(header ? header.value : '') };
  } else {
    delete request.headers['accept'];
  }
  return request;
}
`;

/**
 * Viewer request on every path the distribution does not route on purpose (the default
 * behaviour): answer 404 at the edge, so /metrics and anything unknown never reach the origin.
 */
export const NOT_ROUTED_CODE = `function handler(event) {
  return {
    statusCode: 404,
    statusDescription: 'Not Found',
    headers: { 'cache-control': { value: 'no-store' }, 'content-type': { value: 'text/plain' } }
  };
}
`;

/**
 * CloudFront Functions (cloudfront-js-2.0) as source text, so tests can run the same bytes
 * that CloudFront runs. Plain ES5-style JavaScript: the runtime is not Node.
 */

/**
 * Viewer request on /v1/artwork/*: the cache key holds `Accept`, so collapse it to what the
 * Preprocessor distinguishes. For `.auto` it mirrors the Preprocessor's negotiation (avif if the
 * header names image/avif, else webp if it names image/webp, else jpeg) and sends exactly that
 * one token; for an explicit extension the Preprocessor ignores `Accept`, so it is removed and
 * the URL alone is the key. Either way `auto` costs at most three cache entries per URL.
 */
export const ACCEPT_NORMALISER_CODE = `function negotiate(accept) {
  var a = accept.toLowerCase();
  if (a.indexOf('image/avif') !== -1) return 'image/avif';
  if (a.indexOf('image/webp') !== -1) return 'image/webp';
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

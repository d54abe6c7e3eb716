vcl 4.1;

# Marquee's CDN on one machine: Varnish in front of the Preprocessor, behaving as the CloudFront
# distribution of infra/aws/lib/cdn.ts does, behaviour by behaviour (the same path patterns, in
# the same order):
#
#   /v1/artwork/*   cached. Key: the path, the `locale` and `v` query parameters only (the others are
#                   dropped: neither keyed nor forwarded; the two kept are sorted), and for `.auto`
#                   the Accept header collapsed as the AcceptNormaliser edge function collapses it.
#                   An explicit extension drops Accept. GET and HEAD only.
#   /v1/render*     cached only when the origin says so, never past a day; every query parameter is
#                   part of the key (they are all signed).
#   /v1/*, /studio*, /healthz, /readyz    never cached, forwarded as they came.
#   anything else   404 here (the NotRouted function): /metrics never leaves the machine this way.
#
# The origin's Cache-Control decides (no minimum TTL, so `no-store` on an error holds and a 404's
# max-age=60 is the most it is kept); Vary is honoured; nothing is served stale past its max-age
# unless the origin allows it with stale-while-revalidate. BAN and PURGE come from this machine only.
#
# Cache tags (CloudFront's CacheTagConfig, here vmod xkey from Debian's varnish-modules): the
# origin's cache-tag header (tags separated by commas, or spaces for Surrogate-Key) is copied into
# xkey's `xkey` on every stored object; a PURGE with an `xkey-purge` header (space-separated tags)
# purges every object stored with one of them, every URL, query and Accept variant, and answers
# how many in X-Purged.
#
# The runner (varnish.ts) rewrites the backend's .host and .port, and the cache-tag header's name
# (beresp.http.cache-tag) to the one the Preprocessor sends; everything else is used as written.
# Debugging headers: X-CDN (HIT, MISS or PASS) and X-CDN-Hits (hits on the object served).

import std;
import xkey;

backend preprocessor {
    .host = "127.0.0.1";
    .port = "8080";
    .connect_timeout = 5s;
    # CloudFront's origin read timeout: a cold render (30 s Generator timeout) plus the Preprocessor's work.
    .first_byte_timeout = 40s;
    .between_bytes_timeout = 40s;
}

# Who may BAN and PURGE: this machine, and nothing else (not even the rest of 127.0.0.0/8).
acl invalidators {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    unset req.http.X-CDN-Pass;
    unset req.http.X-Purged;
    if (req.method == "BAN" || req.method == "PURGE") {
        if (client.ip !~ invalidators) {
            return (synth(403, "Forbidden"));
        }
    }
    # Purge by tag: every object stored with one of the space-separated tags, whatever its URL.
    if (req.method == "PURGE" && req.http.xkey-purge) {
        set req.http.X-Purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.X-Purged));
    }
    # BAN: every cached object whose URL (path and kept query) matches the regex in X-Ban-Url, every
    # Accept variant included. The invalidator turns a CloudFront path pattern (`/v1/artwork/boxshot/*`)
    # into that regex. The ban tests a stored header (X-Url), so the ban lurker can apply it in the
    # background instead of holding it until every object is requested again.
    if (req.method == "BAN") {
        if (!req.http.X-Ban-Url) {
            return (synth(400, "X-Ban-Url (a regex on the URL) is required"));
        }
        if (std.ban("obj.http.X-Url ~ " + req.http.X-Ban-Url)) {
            return (synth(200, "Banned"));
        }
        return (synth(400, "Bad ban: " + std.ban_error()));
    }

    set req.http.X-Path = regsub(req.url, "\?.*$", "");
    if (req.http.X-Path ~ "^/v1/artwork/") {
        if (req.method != "GET" && req.method != "HEAD" && req.method != "PURGE") {
            return (synth(405, "Method Not Allowed"));
        }
        call marquee_artwork_key;
    } elsif (req.http.X-Path ~ "^/v1/render") {
        if (req.method != "GET" && req.method != "HEAD" && req.method != "PURGE") {
            return (synth(405, "Method Not Allowed"));
        }
        # The render policy keys on no header.
        unset req.http.Accept;
    } elsif (req.http.X-Path ~ "^/v1/" || req.http.X-Path ~ "^/studio" || req.http.X-Path == "/healthz" || req.http.X-Path == "/readyz") {
        # Studio API calls, uploads, probes: never cached, everything forwarded.
        set req.http.X-CDN-Pass = "1";
        return (pass);
    } else {
        return (synth(404, "Not Found"));
    }

    # PURGE: the one URL asked for (after the same normalisation as a GET, so it names the object
    # the GET would find), every Accept variant of it. As in a CloudFront invalidation, a path
    # without a query does not reach the objects with one: use a BAN of `path*` for those.
    if (req.method == "PURGE") {
        return (purge);
    }
    # Cached behaviours forward no cookie and no credentials (cookie behaviour: none), and images are
    # not compressed again (gzip and brotli off in the cache policies).
    unset req.http.Cookie;
    unset req.http.Authorization;
    unset req.http.Accept-Encoding;
    return (hash);
}

sub marquee_artwork_key {
    # Only `locale` and `v` select the image. The query is rebuilt from them, sorted: `?utm=x&v=1&locale=fr`
    # and `?locale=fr&v=1` are one object, and the origin sees only what selects the image.
    if (req.url ~ "\?") {
        set req.http.X-Query = regsub(req.url, "^[^?]*\?", "&");
        set req.http.X-Query = regsuball(req.http.X-Query, "&(?!(?:locale|v)(?:=|&|$))[^&]*", "");
        set req.url = std.querysort(req.http.X-Path + regsub(req.http.X-Query, "^&", "?"));
        unset req.http.X-Query;
    }
    if (req.http.X-Path !~ "(?i)\.auto$") {
        # An explicit extension: the URL alone is the key.
        unset req.http.Accept;
        return;
    }
    # `.auto`: Accept collapsed to what the Preprocessor distinguishes, which of AVIF and WebP the
    # client accepts, by the rules of shared/src/accept.ts (the edge function's): only the first
    # 4096 characters are read; ranges and parameters are case-insensitive, whitespace ignored; a
    # type is accepted when at least one entry names it exactly and the last well-formed q of that
    # entry (a number as JavaScript's Number() reads it) is above 0, malformed q counting as absent.
    # The two patterns below differ only in the type name. Read as:
    #   (?:^|,)\s*image/avif\s*            an entry naming the type exactly
    #   (?![^,]*REFUSED)                  none of its parameters is a refusing q ...
    #   REFUSED = ;\s*q\s*=\s*ZERO\s*(?:=[^;,]*)?(?=[;,]|$)  a q that reads as a number <= 0 ...
    #             (?![^,]*;\s*q\s*=\s*NUMBER\s*(?:=[^;,]*)?(?=[;,]|$))  ... with no well-formed q after it
    #   (?:[;,]|$)                        and the type name ends there
    set req.http.X-Accept = regsub(req.http.Accept, "^(.{0,4096}).*$", "\1");
    if (req.http.X-Accept ~ "(?i)(?:^|,)\s*image/avif\s*(?![^,]*;\s*q\s*=\s*(?:-(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|\+?(?:0+\.?0*|\.0+)(?:e[+-]?[0-9]+)?|0x0+|0b0+|0o0+)\s*(?:=[^;,]*)?(?=[;,]|$)(?![^,]*;\s*q\s*=\s*(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|0x[0-9a-f]+|0b[01]+|0o[0-7]+)\s*(?:=[^;,]*)?(?=[;,]|$)))(?:[;,]|$)") {
        set req.http.X-Accept-Avif = "1";
    }
    if (req.http.X-Accept ~ "(?i)(?:^|,)\s*image/webp\s*(?![^,]*;\s*q\s*=\s*(?:-(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|\+?(?:0+\.?0*|\.0+)(?:e[+-]?[0-9]+)?|0x0+|0b0+|0o0+)\s*(?:=[^;,]*)?(?=[;,]|$)(?![^,]*;\s*q\s*=\s*(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|0x[0-9a-f]+|0b[01]+|0o[0-7]+)\s*(?:=[^;,]*)?(?=[;,]|$)))(?:[;,]|$)") {
        set req.http.X-Accept-Webp = "1";
    }
    if (req.http.X-Accept-Avif && req.http.X-Accept-Webp) {
        set req.http.Accept = "image/avif,image/webp";
    } elsif (req.http.X-Accept-Avif) {
        set req.http.Accept = "image/avif";
    } elsif (req.http.X-Accept-Webp) {
        set req.http.Accept = "image/webp";
    } else {
        set req.http.Accept = "image/jpeg";
    }
    unset req.http.X-Accept;
    unset req.http.X-Accept-Avif;
    unset req.http.X-Accept-Webp;
}

sub vcl_hash {
    # The URL as normalised above; the Accept variants live under it, by Vary (see vcl_backend_response).
    # No Host: one distribution, one origin.
    hash_data(req.url);
    return (lookup);
}

sub vcl_purge {
    return (synth(200, "Purged"));
}

sub vcl_backend_fetch {
    unset bereq.http.X-Path;
    unset bereq.http.X-CDN-Pass;
}

sub vcl_backend_response {
    # What BAN matches on (see vcl_recv); removed before delivery.
    set beresp.http.X-Url = bereq.url;
    # What a tag purge matches on: xkey reads its own header, tags separated by commas or spaces.
    # Never the origin's own xkey (it is not part of Marquee's contract): only the tags it names.
    unset beresp.http.xkey;
    if (beresp.http.cache-tag) {
        set beresp.http.xkey = beresp.http.cache-tag;
    }
    if (bereq.uncacheable) {
        return (deliver);
    }
    # The Accept header is part of the `.auto` key whatever the origin sends, as in the cache policy.
    if (bereq.url ~ "^[^?]*\.(?i:auto)(?:\?|$)" && beresp.http.Vary !~ "(?i)(?:^|,)\s*accept\s*(?:,|$)") {
        if (beresp.http.Vary) {
            set beresp.http.Vary = beresp.http.Vary + ", Accept";
        } else {
            set beresp.http.Vary = "Accept";
        }
    }
    # Varnish takes a TTL from Cache-Control only for the statuses of its RFC list (not 308, not most
    # errors); CloudFront caches any response its Cache-Control allows. So an explicit s-maxage or
    # max-age counts whatever the status: a snap redirect (308, max-age=3600) is kept like an image.
    if (beresp.ttl <= 0s && beresp.http.Cache-Control !~ "(?i)no-store|no-cache|private") {
        if (beresp.http.Cache-Control ~ "(?i)(?:^|[,\s])s-maxage\s*=\s*[0-9]+") {
            set beresp.ttl = std.duration(regsub(beresp.http.Cache-Control, "(?i)^(?:.*[,\s])?s-maxage\s*=\s*([0-9]+).*$", "\1s"), 0s);
        } elsif (beresp.http.Cache-Control ~ "(?i)(?:^|[,\s])max-age\s*=\s*[0-9]+") {
            set beresp.ttl = std.duration(regsub(beresp.http.Cache-Control, "(?i)^(?:.*[,\s])?max-age\s*=\s*([0-9]+).*$", "\1s"), 0s);
        }
    }
    if (!beresp.http.Cache-Control && !beresp.http.Expires) {
        # No word from the origin: CloudFront's default TTLs (artwork a day, renders not at all),
        # and an error is not kept (the distribution's error caching minimum is 0 s).
        if (beresp.status >= 400 || bereq.url ~ "^/v1/render") {
            set beresp.ttl = 0s;
        } else {
            set beresp.ttl = 1d;
        }
    }
    # The policies' maximum TTLs: a year for artwork, a day for renders (signatures expire).
    if (bereq.url ~ "^/v1/render" && beresp.ttl > 1d) {
        set beresp.ttl = 1d;
    } elsif (beresp.ttl > 365d) {
        set beresp.ttl = 365d;
    }
    # Never served past its max-age (Varnish's default grace would serve it 10 s more), unless the
    # origin allows it; an error never.
    if (beresp.status >= 400 || beresp.http.Cache-Control !~ "(?i)stale-while-revalidate") {
        set beresp.grace = 0s;
    }
    # The rest (no-store, private, no-cache, Set-Cookie, Vary: *) is the built-in VCL's: not cached.
}

sub vcl_deliver {
    unset resp.http.X-Url;
    # xkey's copy is internal; the cache-tag header itself stays, to show what a tag purge reaches.
    unset resp.http.xkey;
    if (req.http.X-CDN-Pass) {
        set resp.http.X-CDN = "PASS";
    } elsif (obj.hits > 0) {
        set resp.http.X-CDN = "HIT";
    } else {
        set resp.http.X-CDN = "MISS";
    }
    set resp.http.X-CDN-Hits = obj.hits;
}

sub vcl_synth {
    # Answers made here (404 not routed, 405, 403, BAN and PURGE results): plain text, never cached.
    set resp.http.Content-Type = "text/plain; charset=utf-8";
    set resp.http.Cache-Control = "no-store";
    if (req.http.X-Purged) {
        set resp.http.X-Purged = req.http.X-Purged;
    }
    if (resp.status == 405) {
        set resp.http.Allow = "GET, HEAD";
    }
    set resp.body = resp.reason;
    return (deliver);
}

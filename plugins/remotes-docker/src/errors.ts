import {
  NotFoundError, PermissionDeniedError, ResourceExhaustedError, UnavailableError, UnknownError, type CtrdError,
} from '@ctrd/errdefs';

/**
 * statusError turns an unexpected registry response into an error of the matching class, with the
 * registry's own error messages (`{"errors":[{"code","message"}]}`) appended when the body has them.
 */
export function statusError(method: string, url: string, status: number, body: string): CtrdError {
  let detail = '';
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }> };
    if (Array.isArray(parsed.errors) && parsed.errors.length) {
      detail = ` - server message: ${parsed.errors.map((e) => [e.code?.toLowerCase(), e.message].filter(Boolean).join(': ')).join('; ')}`;
    }
  } catch {
    // not a registry error body
  }
  const msg = `unexpected status from ${method} request to ${redact(url)}: ${status}${detail}`;
  if (status === 404) return new NotFoundError(msg);
  if (status === 401 || status === 403) return new PermissionDeniedError(msg);
  if (status === 429) return new ResourceExhaustedError(msg);
  if (status >= 500) return new UnavailableError(msg);
  return new UnknownError(msg);
}

/** redact drops the query of a URL, where signed blob-storage URLs keep their credentials. */
export function redact(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : `${url.slice(0, i)}?…`;
}

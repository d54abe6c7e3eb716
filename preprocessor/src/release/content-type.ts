/** The file extension a report gives a render of this content type. */
export function extensionOfContentType(contentType: string): string {
  const subtype = contentType.split(';')[0]?.split('/')[1] ?? 'bin';
  return subtype === 'jpeg' ? 'jpg' : subtype.replace(/[^a-z0-9]/g, '') || 'bin';
}

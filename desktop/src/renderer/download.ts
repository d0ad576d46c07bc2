import type { ExportedFile } from '../core/affiliates/payouts';

/** Saves an exported file through the browser's (or Electron's) download, named as the core named it. */
export function saveFile(file: ExportedFile): void {
  const blob =
    'text' in file
      ? new Blob([file.text], { type: file.mediaType })
      : new Blob([Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0))], { type: file.mediaType });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = file.name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

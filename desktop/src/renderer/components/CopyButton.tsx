import { useState } from 'react';

/** Copies `text`; says so for a moment. Falls back to selecting a hidden field where the clipboard API is absent. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
    setTimeout(() => setCopied(null), 1500);
  };
  return (
    <button type="button" className="small" onClick={() => void copy()} title={text}>
      {copied === 'yes' ? 'Copied' : copied === 'no' ? 'Select and copy by hand' : label}
    </button>
  );
}

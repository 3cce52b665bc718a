import type { ComponentChildren } from 'preact';
import { navigate } from '../router.ts';

/** What a {@link Link} takes: the few anchor attributes the app uses. */
export interface LinkProps {
  readonly href: string;
  readonly class?: string | undefined;
  readonly title?: string | undefined;
  readonly tabIndex?: number | undefined;
  readonly children?: ComponentChildren;
}

/**
 * An in-app link: a real `<a href>` (middle-click, "open in new tab" and copy-link work, every
 * screen stays a URL) whose plain left click moves through the router without reloading.
 */
export function Link({ href, children, ...rest }: LinkProps) {
  return (
    <a
      {...rest}
      href={href}
      onClick={(e) => {
        if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

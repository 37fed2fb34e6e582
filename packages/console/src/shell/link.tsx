/** A link to a page of the Console: a real link (new tab, copy address) that navigates in place on a plain click. */
import type { MouseEvent, ReactNode } from 'react';
import { hrefOf, type Route } from '../routing/routes.js';

export function Link({ to, navigate, children, className, current }: { to: Route; navigate: (route: Route) => void; children: ReactNode; className?: string; current?: boolean }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>): void => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={hrefOf(to)} onClick={onClick} className={className} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

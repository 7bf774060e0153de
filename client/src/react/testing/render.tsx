/**
 * A minimal React test renderer over the DOM of the test environment (happy-dom): `react-dom/client` roots
 * driven with `act`, and `waitFor` for results that arrive asynchronously (PGlite, the network). Test-only.
 */

import { act, type ReactNode, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

// Tells React this is a test environment where updates are flushed with `act`.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** A mounted element. */
export interface Rendered {
  /** The element the tree renders into (attached to `document.body`). */
  readonly container: HTMLElement;
  /** Renders `element` in place of the current tree (same root: state of unchanged components is kept). */
  rerender(element: ReactNode): Promise<void>;
  /** Unmounts the tree and removes the container. */
  unmount(): Promise<void>;
}

/**
 * Mounts `element` in `<StrictMode>`, so effects run, are cleaned up and run again on mount, as in development
 * builds: a hook that does not clean up shows here.
 */
export async function render(element: ReactNode): Promise<Rendered> {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  const show = (e: ReactNode) => act(async () => root.render(<StrictMode>{e}</StrictMode>));
  await show(element);
  return {
    container,
    rerender: show,
    async unmount() {
      await act(async () => root.unmount());
      container.remove();
    },
  };
}

/** Lets `ms` pass inside `act`, so React applies the updates that arrive meanwhile. */
export async function settle(ms = 20): Promise<void> {
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, ms)));
}

/** Retries `check` (which throws while unmet, e.g. an `expect`) until it passes; after `timeoutMs`, rethrows. */
export async function waitFor(check: () => void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await settle();
  }
}

/** The text of each element matching `selector` under `container`. */
export function texts(container: HTMLElement, selector: string): string[] {
  return Array.from(container.querySelectorAll(selector), (e) => e.textContent ?? '');
}

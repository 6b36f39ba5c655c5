import { createContext, useContext } from "react";

// The CSP nonce of the response being rendered (entry.server.tsx provides it; in the browser it is
// "", and browsers hide a nonce from the DOM anyway). Remix's inline scripts need it to run.
const NonceContext = createContext("");

export const NonceProvider = NonceContext.Provider;

export function useNonce(): string {
  return useContext(NonceContext);
}

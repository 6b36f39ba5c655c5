/// <reference types="@remix-run/dev" />

// Single Fetch (remix.config.js future.v3_singleFetch): loaders and actions return plain objects or
// data(); this tells useLoaderData/useActionData the types they then produce.
import "@remix-run/node";
declare module "@remix-run/node" {
  interface Future {
    v3_singleFetch: true;
  }
}

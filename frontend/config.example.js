// Copy to config.js next to index.html and fill in for your deployment. `make run` writes the
// local config.js itself (it is gitignored); this file only documents what production sets.
window.SHOP_CONFIG = {
  // The Supabase project's API URL (Dashboard → Project Settings → API).
  supabaseUrl: "https://YOUR-PROJECT-REF.supabase.co",
  // The project's anon (publishable) key. It is public by design: Row Level Security decides
  // what it can read, and the API roles cannot write at all.
  supabaseAnonKey: "YOUR-ANON-KEY",
  // Where the functions are deployed, without a trailing slash: the page POSTs to
  // <functionsBaseUrl>/add-item, /remove-item and /checkout, e.g. the AWS HTTP API's URL:
  // "https://abc123.execute-api.eu-central-1.amazonaws.com". The functions must list the shop's
  // origin in ALLOWED_ORIGINS (CORS).
  functionsBaseUrl: "https://YOUR-API-ID.execute-api.YOUR-REGION.amazonaws.com",
  // ISO 4217 code the prices (integer cents) are shown in, and optionally a BCP 47 locale
  // (default: the browser's).
  currency: "EUR",
  // locale: "de-DE",
};

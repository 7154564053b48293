// The shop's page. Reads go straight to Supabase (PostgREST, gated by Row Level Security) with
// supabase-js; writes go only through the functions, with plain fetch so the same code reaches
// the local gateway and API Gateway in production. Every piece of data is put on the page as
// text (textContent / DOM building), never as HTML.
"use strict";

(function () {
  const config = window.SHOP_CONFIG;
  if (!config || !window.supabase) {
    document.getElementById("product-grid").textContent =
      "The shop is not configured: config.js or supabase.js did not load.";
    return;
  }

  const db = window.supabase.createClient(config.supabaseUrl, config.supabaseAnonKey, {
    auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: false },
  });
  const functionsBase = config.functionsBaseUrl.replace(/\/+$/, "");
  const money = new Intl.NumberFormat(config.locale || undefined, {
    style: "currency",
    currency: config.currency || "EUR",
  });
  const RETRY_DELAYS_MS = [400, 1200]; // two retries for answers that say "not applied, try again"
  const RETRYABLE_STATUSES = new Set([502, 503, 504]);
  const PRODUCT_REFRESH_MS = 15000;
  const ERROR_TITLES = {
    insufficient_stock: "Out of stock",
    cart_empty: "Your cart is empty",
    unauthorized: "Please sign in again",
    item_not_in_cart: "That item is no longer in your cart",
    product_not_found: "That product is no longer available",
    purchase_limit_reached: "Purchase limit reached",
    cart_limit_reached: "Your cart is full",
    rate_limited: "Too many clicks at once",
  };

  const state = {
    session: null,
    userId: undefined, // unknown until supabase-js reports the stored session (or none)
    products: null,
    cart: [],
    orders: [],
    pending: new Map(), // action key -> label shown on its button while it waits
  };

  // ---------------------------------------------------------------- DOM building (text only)

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  const $ = (id) => document.getElementById(id);
  const formatMoney = (cents) => money.format(cents / 100);
  const formatDate = (iso) =>
    new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // Re-rendering replaces buttons; keep keyboard focus on the "same" button afterwards.
  function keepingFocus(render) {
    const key = document.activeElement && document.activeElement.dataset.key;
    render();
    if (key) {
      const again = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (again && !again.disabled) again.focus();
    }
  }

  function actionButton(key, label, busyLabel, onclick, extra = {}) {
    const busy = state.pending.has(key);
    const { class: cls = "btn btn-primary", disabled = false, ...rest } = extra;
    return h(
      "button",
      {
        type: "button",
        class: cls + (busy ? " is-loading" : ""),
        dataset: { key },
        disabled: busy || disabled,
        "aria-busy": busy ? "true" : null,
        onclick,
        ...rest,
      },
      busy ? busyLabel : label,
    );
  }

  // ---------------------------------------------------------------- notices

  function showError(title, message, correlationId) {
    const notice = h(
      "div",
      { class: "notice notice-error", role: "alert" },
      h("div", { class: "notice-text" },
        h("strong", { class: "notice-title" }, title),
        h("span", { class: "notice-message" }, message),
        correlationId
          ? h("span", { class: "notice-ref" }, "Reference: ", h("code", { class: "correlation-id" }, correlationId))
          : null,
      ),
      h("button", { type: "button", class: "btn btn-icon", "aria-label": "Dismiss", onclick: () => notice.remove() }, "×"),
    );
    const notices = $("notices");
    notices.prepend(notice);
    while (notices.children.length > 3) notices.lastElementChild.remove();
  }

  // One short confirmation at a time: the newest replaces the one before.
  function toast(message) {
    const item = h("div", { class: "toast", role: "status" }, message);
    $("toasts").replaceChildren(item);
    setTimeout(() => item.remove(), 3000);
  }

  // ---------------------------------------------------------------- writes: the functions

  class ShopError extends Error {
    constructor(message, { code, status, correlationId } = {}) {
      super(message);
      this.code = code;
      this.status = status;
      this.correlationId = correlationId;
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // One click = one Idempotency-Key, kept across retries so the server can apply it once;
  // every HTTP request gets its own correlation id.
  async function callFunction(name, body) {
    const idempotencyKey = newId();
    for (let attempt = 0; ; attempt += 1) {
      const { data } = await db.auth.getSession();
      if (!data.session) throw new ShopError("Sign in to continue.", { code: "unauthorized", status: 401 });
      const correlationId = newId();
      let response;
      try {
        response = await fetch(`${functionsBase}/${name}`, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Authorization: `Bearer ${data.session.access_token}`,
            "X-Correlation-ID": correlationId,
            "Idempotency-Key": idempotencyKey,
          },
          body: JSON.stringify(body),
        });
      } catch (networkError) {
        if (attempt < RETRY_DELAYS_MS.length) {
          await sleep(RETRY_DELAYS_MS[attempt]);
          continue;
        }
        throw new ShopError("Could not reach the shop. Check your connection and try again.", {
          code: "network_error",
          correlationId,
        });
      }
      const payload = await response.json().catch(() => null);
      if (response.ok && payload) return payload;
      const error = (payload && payload.error) || {};
      const cid = error.correlation_id || response.headers.get("X-Correlation-ID") || correlationId;
      if (RETRYABLE_STATUSES.has(response.status) && attempt < RETRY_DELAYS_MS.length) {
        const retryAfter = Number(response.headers.get("Retry-After")) * 1000;
        await sleep(Math.min(retryAfter || RETRY_DELAYS_MS[attempt], 5000));
        continue;
      }
      throw new ShopError(error.message || `The shop answered ${response.status}.`, {
        code: error.code,
        status: response.status,
        correlationId: cid,
      });
    }
  }

  async function runAction(key, busyLabel, failureTitle, work) {
    if (state.pending.has(key)) return;
    state.pending.set(key, busyLabel);
    renderAll();
    try {
      await work();
    } catch (error) {
      if (!(error instanceof ShopError)) throw error;
      if (error.status === 401) {
        await endSession(error.message, error.correlationId);
      } else {
        showError(ERROR_TITLES[error.code] || failureTitle, error.message, error.correlationId);
        // What the page showed was stale (that is usually why a command is refused): refresh it.
        await Promise.all([loadProducts(), loadCart()]);
      }
    } finally {
      state.pending.delete(key);
      renderAll();
    }
  }

  // `key` tells which button waits: the grid's "Add to cart" or the cart's "+".
  function addToCart(productId, name, key) {
    if (!state.session) {
      openAuth("sign-in", "Sign in or create an account to add items to your cart.");
      return;
    }
    return runAction(key, "Adding…", "Couldn't add to cart", async () => {
      await callFunction("add-item", { product_id: productId, quantity: 1 });
      await Promise.all([loadCart(), loadProducts()]);
      toast(`Added ${name} to your cart.`);
    });
  }

  function removeFromCart(line, quantity, key) {
    return runAction(key, key.startsWith("remove") ? "Removing…" : "Updating…", "Couldn't update your cart", async () => {
      await callFunction("remove-item", { product_id: line.product_id, quantity });
      await Promise.all([loadCart(), loadProducts()]);
    });
  }

  function checkout() {
    return runAction("checkout", "Placing order…", "Checkout failed", async () => {
      const order = await callFunction("checkout", {});
      closeCart();
      renderConfirmation(order);
      await Promise.all([loadCart(), loadProducts(), loadOrders()]);
    });
  }

  // ---------------------------------------------------------------- reads: Supabase

  async function read(what, query) {
    const withSession = Boolean(state.session);
    const { data, error, status } = await query;
    if (error) {
      if (status === 401 && withSession) await endSession(error.message, null);
      else showError(`Couldn't load ${what}`, error.message || "The read failed.", null);
      return null;
    }
    return data;
  }

  // The server no longer accepts the session (expired, revoked): say so once, sign out here
  // only (the server already refused it) and offer the sign-in form.
  let endingSession = false;
  async function endSession(message, correlationId) {
    if (endingSession || !state.session) return;
    endingSession = true;
    state.session = null;
    try {
      showError(ERROR_TITLES.unauthorized, message, correlationId);
      await db.auth.signOut({ scope: "local" });
      openAuth("sign-in", "Your session has ended. Sign in again to continue.");
    } finally {
      endingSession = false;
    }
  }

  async function loadProducts() {
    const rows = await read(
      "products",
      db.from("product_catalog").select("id,name,description,price_cents,stock,in_stock,max_per_customer").order("id"),
    );
    if (rows) state.products = rows;
    renderProducts();
  }

  async function loadCart() {
    const userId = state.userId;
    const rows = userId
      ? await read(
          "your cart",
          db
            .from("my_cart")
            .select("product_id,name,price_cents,quantity,line_total_cents,stock,expires_at")
            .order("product_id"),
        )
      : [];
    if (rows && userId === state.userId) state.cart = rows;
    renderCart();
  }

  async function loadOrders() {
    const userId = state.userId;
    const rows = userId
      ? await read(
          "your orders",
          db
            .from("my_orders")
            .select("id,status,total_cents,correlation_id,created_at,lines")
            .order("created_at", { ascending: false })
            .limit(20),
        )
      : [];
    if (rows && userId === state.userId) state.orders = rows;
    renderOrders();
  }

  // ---------------------------------------------------------------- rendering

  function renderAll() {
    keepingFocus(() => {
      renderHeader();
      renderProducts();
      renderCart();
      renderOrders();
    });
  }

  function renderHeader() {
    const signedIn = Boolean(state.session);
    $("sign-in-open").hidden = signedIn;
    $("account").hidden = !signedIn;
    $("cart-button").hidden = !signedIn;
    $("orders-link").hidden = !signedIn;
    $("hero").hidden = signedIn;
    $("account-email").textContent = signedIn ? state.session.user.email : "";
    const count = state.cart.reduce((sum, line) => sum + line.quantity, 0);
    $("cart-count").textContent = String(count);
    $("cart-button").setAttribute("aria-label", `Cart, ${count} item${count === 1 ? "" : "s"}`);
  }

  function stockLabel(product) {
    if (product.stock <= 0) return h("span", { class: "stock stock-out" }, "Sold out");
    if (product.stock <= 5) return h("span", { class: "stock stock-low" }, `Only ${product.stock} left`);
    return h("span", { class: "stock" }, `${product.stock} in stock`);
  }

  function productCard(product) {
    const swatch = h("div", { class: "swatch", "aria-hidden": "true" }, product.name.trim().charAt(0).toUpperCase());
    swatch.style.setProperty("--hue", String((Number(product.id) * 47) % 360));
    const soldOut = product.stock <= 0;
    return h(
      "article",
      { class: "card", dataset: { productId: product.id }, "aria-labelledby": `product-${product.id}` },
      swatch,
      h("div", { class: "card-body" },
        h("h3", { class: "card-title", id: `product-${product.id}` }, product.name),
        h("p", { class: "card-text" }, product.description),
        h("div", { class: "card-meta" },
          h("span", { class: "price" }, formatMoney(product.price_cents)),
          stockLabel(product),
        ),
        product.max_per_customer
          ? h("p", { class: "purchase-limit" }, `Limit ${product.max_per_customer} per customer`)
          : null,
        actionButton(`add:${product.id}`, soldOut ? "Sold out" : "Add to cart", "Adding…", () => addToCart(product.id, product.name, `add:${product.id}`), {
          class: "btn btn-primary btn-block add-to-cart",
          disabled: soldOut,
          "aria-label": soldOut ? `${product.name} is sold out` : `Add ${product.name} to cart`,
        }),
      ),
    );
  }

  function renderProducts() {
    const grid = $("product-grid");
    if (state.products === null) return;
    grid.removeAttribute("aria-busy");
    grid.replaceChildren(
      ...(state.products.length
        ? state.products.map(productCard)
        : [h("p", { class: "muted" }, "No products yet.")]),
    );
  }

  function cartLine(line) {
    const id = line.product_id;
    return h(
      "li",
      { class: "line", dataset: { productId: id } },
      h("div", { class: "line-info" },
        h("span", { class: "line-name" }, line.name),
        h("span", { class: "muted small" }, `${formatMoney(line.price_cents)} each`),
      ),
      h("div", { class: "qty", role: "group", "aria-label": `Quantity of ${line.name}` },
        actionButton(`dec:${id}`, "−", "…", () => removeFromCart(line, 1, `dec:${id}`), {
          class: "btn btn-qty",
          "aria-label": `Remove one ${line.name}`,
        }),
        h("span", { class: "qty-value", "aria-live": "polite" }, String(line.quantity)),
        actionButton(`inc:${id}`, "+", "…", () => addToCart(id, line.name, `inc:${id}`), {
          class: "btn btn-qty",
          disabled: line.stock <= 0,
          "aria-label": `Add one more ${line.name}`,
        }),
      ),
      h("span", { class: "line-total" }, formatMoney(line.line_total_cents)),
      actionButton(`remove:${id}`, "Remove", "Removing…", () => removeFromCart(line, line.quantity, `remove:${id}`), {
        class: "btn btn-link line-remove",
        "aria-label": `Remove ${line.name} from cart`,
      }),
    );
  }

  function renderCart() {
    const body = $("cart-body");
    const total = state.cart.reduce((sum, line) => sum + line.line_total_cents, 0);
    body.replaceChildren(
      state.cart.length
        ? h("ul", { class: "lines" }, state.cart.map(cartLine))
        : h("div", { class: "empty" },
            h("p", {}, "Your cart is empty."),
            h("p", { class: "muted small" }, "Add something from the shop to get started."),
          ),
    );
    $("cart-total").textContent = formatMoney(total);
    renderReservation();
    const checkoutButton = $("checkout");
    const busy = state.pending.has("checkout");
    checkoutButton.disabled = busy || state.cart.length === 0;
    checkoutButton.classList.toggle("is-loading", busy);
    checkoutButton.toggleAttribute("aria-busy", busy);
    checkoutButton.textContent = busy
      ? "Placing order…"
      : state.cart.length
        ? `Check out · ${formatMoney(total)}`
        : "Check out";
    renderHeader();
  }

  // Stock is reserved while the cart is in use; the server gives it back CART_TTL_MINUTES after
  // the last change (my_cart.expires_at), so say how long is left.
  function renderReservation() {
    const expiresAt = state.cart.length ? Date.parse(state.cart[0].expires_at) : NaN;
    const minutes = Math.ceil((expiresAt - Date.now()) / 60000);
    $("cart-hold").textContent = Number.isNaN(expiresAt)
      ? "Items you add are reserved for you while you shop."
      : minutes > 0
        ? `Reserved for you for ${minutes} more minute${minutes === 1 ? "" : "s"}; any change renews it.`
        : "Your reservation has run out: items may go back on sale.";
  }

  function orderLines(lines) {
    return h("ul", { class: "order-lines" },
      lines.map((line) =>
        h("li", {},
          h("span", {}, `${line.quantity} × `, line.name),
          h("span", { class: "muted" }, formatMoney(line.line_total_cents)),
        ),
      ),
    );
  }

  function renderOrders() {
    const section = $("orders");
    section.hidden = !state.session;
    const list = $("order-list");
    if (!state.orders.length) {
      list.replaceChildren(h("p", { class: "muted" }, "No orders yet. Your orders will appear here."));
      return;
    }
    list.replaceChildren(
      ...state.orders.map((order) =>
        h("article", { class: "order", dataset: { orderId: order.id } },
          h("div", { class: "order-head" },
            h("div", {},
              h("strong", {}, "Order "),
              h("code", { class: "order-id" }, order.id),
            ),
            h("span", { class: "pill" }, order.status),
          ),
          h("div", { class: "order-sub muted small" }, formatDate(order.created_at)),
          orderLines(order.lines || []),
          h("div", { class: "order-total" }, h("span", {}, "Total"), h("strong", {}, formatMoney(order.total_cents))),
        ),
      ),
    );
  }

  function renderConfirmation(order) {
    const section = $("confirmation");
    section.replaceChildren(
      h("div", { class: "confirmation-head" },
        h("span", { class: "check", "aria-hidden": "true" }, "✓"),
        h("div", {},
          h("h2", { id: "confirmation-title" }, "Thank you, your order is placed"),
          h("p", { class: "muted" }, "Order ", h("code", { class: "order-id", id: "confirmation-order-id" }, order.order_id)),
        ),
      ),
      orderLines(order.lines),
      h("div", { class: "order-total" }, h("span", {}, "Total"), h("strong", {}, formatMoney(order.total_cents))),
      h("button", { type: "button", class: "btn btn-secondary", onclick: () => (section.hidden = true) }, "Continue shopping"),
    );
    section.hidden = false;
    section.scrollIntoView({ behavior: "smooth", block: "start" });
    section.focus({ preventScroll: true });
  }

  // ---------------------------------------------------------------- cart drawer

  function openCart() {
    $("cart").classList.add("open");
    $("cart").setAttribute("aria-hidden", "false");
    $("scrim").hidden = false;
    $("cart").focus();
    loadCart();
  }

  function closeCart() {
    $("cart").classList.remove("open");
    $("cart").setAttribute("aria-hidden", "true");
    $("scrim").hidden = true;
  }

  // ---------------------------------------------------------------- sign in / sign up

  let authMode = "sign-in";

  function setAuthMode(mode) {
    authMode = mode;
    const signUp = mode === "sign-up";
    $("auth-title").textContent = signUp ? "Create your account" : "Sign in";
    $("auth-submit").textContent = signUp ? "Create account" : "Sign in";
    $("tab-sign-in").setAttribute("aria-selected", String(!signUp));
    $("tab-sign-up").setAttribute("aria-selected", String(signUp));
    $("auth-password").setAttribute("autocomplete", signUp ? "new-password" : "current-password");
    $("auth-error").hidden = true;
  }

  function openAuth(mode, hint) {
    setAuthMode(mode);
    $("auth-hint").textContent = hint || "";
    $("auth-hint").hidden = !hint;
    const dialog = $("auth-dialog");
    if (!dialog.open) dialog.showModal();
    $("auth-email").focus();
  }

  async function submitAuth(event) {
    event.preventDefault();
    const email = $("auth-email").value.trim();
    const password = $("auth-password").value;
    const submit = $("auth-submit");
    const errorBox = $("auth-error");
    errorBox.hidden = true;
    if (!email || !password) {
      errorBox.textContent = "Enter your email and a password.";
      errorBox.hidden = false;
      return;
    }
    const signUp = authMode === "sign-up";
    submit.disabled = true;
    submit.classList.add("is-loading");
    submit.setAttribute("aria-busy", "true");
    submit.textContent = signUp ? "Creating account…" : "Signing in…";
    try {
      const { data, error } = signUp
        ? await db.auth.signUp({ email, password })
        : await db.auth.signInWithPassword({ email, password });
      if (error || !data.session) {
        errorBox.textContent = error ? error.message : "Check your email to confirm your account.";
        errorBox.hidden = false;
        return;
      }
      $("auth-password").value = "";
      $("auth-dialog").close();
      toast(signUp ? "Welcome! Your account is ready." : "Signed in.");
    } finally {
      submit.disabled = false;
      submit.classList.remove("is-loading");
      submit.removeAttribute("aria-busy");
      submit.textContent = signUp ? "Create account" : "Sign in";
    }
  }

  async function signOut() {
    const button = $("sign-out");
    button.disabled = true;
    button.classList.add("is-loading");
    button.textContent = "Signing out…";
    try {
      const { error } = await db.auth.signOut();
      if (error) showError("Couldn't sign out", error.message, null);
    } finally {
      button.disabled = false;
      button.classList.remove("is-loading");
      button.textContent = "Sign out";
    }
  }

  // A new user (or none) means everything user-specific on the page is stale.
  function onSession(session) {
    const userId = session ? session.user.id : null;
    state.session = session;
    if (userId !== state.userId) {
      state.userId = userId;
      state.cart = [];
      state.orders = [];
      $("confirmation").hidden = true;
      if (!userId) closeCart();
      loadProducts();
      loadCart();
      loadOrders();
    }
    renderAll();
  }

  // ---------------------------------------------------------------- wiring

  $("sign-in-open").addEventListener("click", () => openAuth("sign-in"));
  $("hero-sign-in").addEventListener("click", () => openAuth("sign-in"));
  $("hero-sign-up").addEventListener("click", () => openAuth("sign-up"));
  $("tab-sign-in").addEventListener("click", () => setAuthMode("sign-in"));
  $("tab-sign-up").addEventListener("click", () => setAuthMode("sign-up"));
  $("auth-close").addEventListener("click", () => $("auth-dialog").close());
  $("auth-form").addEventListener("submit", submitAuth);
  $("sign-out").addEventListener("click", signOut);
  $("cart-button").addEventListener("click", openCart);
  $("cart-close").addEventListener("click", closeCart);
  $("scrim").addEventListener("click", closeCart);
  $("checkout").addEventListener("click", checkout);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && $("cart").classList.contains("open")) closeCart();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") loadProducts();
  });
  setInterval(() => {
    if (document.visibilityState === "visible") loadProducts();
    renderReservation();
  }, PRODUCT_REFRESH_MS);

  // Callbacks run inside supabase-js's auth lock: hand off instead of calling it from here.
  // The first report (INITIAL_SESSION) loads the page's data.
  db.auth.onAuthStateChange((_event, session) => setTimeout(() => onSession(session), 0));
})();

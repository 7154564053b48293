// The browsable API reference: Swagger UI reading the document this gateway serves.
"use strict";

window.ui = window.SwaggerUIBundle({
  url: "/functions/v1/openapi.json",
  dom_id: "#api-reference",
  deepLinking: true,
  // Swagger UI would send the document to validator.swagger.io; `make test` validates it here.
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
});

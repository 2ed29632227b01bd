// Swagger UI on this service's own OpenAPI document (no inline script: the page's CSP forbids it).
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: true,
});

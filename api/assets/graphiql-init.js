// Starts GraphiQL against this server. Log in with the `login` mutation, then put
// {"Authorization": "Bearer <accessToken>"} in the Headers tab.
(function () {
  var defaultQuery = [
    "# Welcome to PartnerGraph.",
    "#",
    "# 1. Run the login mutation below (demo logins are printed by `serve --demo`).",
    "# 2. Copy accessToken into the Headers tab:",
    "#    { \"Authorization\": \"Bearer <accessToken>\" }",
    "# 3. Query away: { me { name role partner { name } } }",
    "",
    "mutation Login {",
    "  login(input: { email: \"manager@vendor.example\", password: \"partnergraph-demo\" }) {",
    "    accessToken",
    "    user { name role }",
    "    userErrors { field message code }",
    "  }",
    "}",
    "",
  ].join("\n");
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true,
    })
  );
})();

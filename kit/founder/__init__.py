"""The founder's side: login, the dashboard at /admin, the JSON API, the signup list, ad spend."""

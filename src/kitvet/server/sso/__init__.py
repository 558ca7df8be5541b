"""Single sign-on through an OpenID Connect identity provider (see ``docs/server.md``)."""

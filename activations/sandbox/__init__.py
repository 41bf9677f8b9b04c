"""The local ESP sandbox: Braze, Klaviyo, Mailchimp, SendGrid and Customer.io in one app.

See ``README.md`` next to this file for every endpoint, the control API and the
reporting webhooks. ``activations.sandbox.server.serve_in_thread`` runs it for tests.
"""

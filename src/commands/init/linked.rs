//! `init quickbooks|xero`: a config that reads the accounting system's API directly (SPEC
//! §11). There is no export to look at: what it prints is what to fill in, where each value
//! comes from at the provider's developer portal, and the commands that follow.

use std::fmt::Write as _;

use super::{API, store_section};
use crate::provider::Provider;

/// The config for reading `provider`'s API, ready once its blanks are filled in.
pub(super) fn config(provider: Provider) -> String {
    let (preset, portal, redirect) = match provider {
        Provider::Quickbooks => (
            "quickbooks-online",
            "#  1. At developer.intuit.com create an app with the Accounting scope. Under Keys &\n\
             #     credentials add a redirect URI: production apps need an https:// page you own\n\
             #     (paste the URL the browser lands on); a sandbox app may use\n\
             #     http://localhost:5001/callback and `connect --listen 127.0.0.1:5001`.\n",
            "",
        ),
        Provider::Xero => (
            "xero",
            "#  1. At developer.xero.com create a Web app with the redirect URI below, and generate\n\
             #     its secret. (A Custom Connection instead: set grant = \"client_credentials\",\n\
             #     leave redirect_uri out, and skip `connect`.)\n",
            "http://localhost:5001/callback",
        ),
    };
    let name = provider.name();
    let secret = provider.secret_credential();
    let mut text = format!(
        "# bluetape-sync config reading {system}'s API directly, written by `bluetape-sync init \
         {name}`.\n# There is no export file: each pass asks {system} for what changed since the \
         last.\n# Next:\n{portal}\
         #  2. Fill in {name}.client_id and redirect_uri below, and api.account_id and the key.\n\
         #     Put the app's secret in /etc/bluetape-sync/{secret} (root only): the service\n\
         #     is given it as the credential `{secret}` (a drop-in: see the README); run by\n\
         #     hand, name a file only you can read in client_secret_file.\n\
         #  3. bluetape-sync --config <this file> connect {name}{listen}\n\
         #  4. bluetape-sync --config <this file> check --online, then --once --dry-run to see\n\
         #     what would be sent; then start the service.\n",
        system = provider.system(),
        listen = match provider {
            Provider::Quickbooks => "   (paste the URL the browser lands on)",
            Provider::Xero => " --listen 127.0.0.1:5001",
        },
    );
    text.push_str(API);
    text.push_str(&store_section());
    let _ = write!(
        text,
        "\n[source]\n# Customers come from {system}'s API: its preset maps them and leaves out \
         what it must.\npreset = \"{preset}\"\nfrom = \"api\"\n\n# Invoices through the same \
         connection: remove the `# ` of the next three lines.\n# [invoices]\n# preset = \
         \"{preset}\"\n# from = \"api\"\n\n[{name}]\n# The app's client id, from the developer \
         portal.\nclient_id = \"\"\n# The app's secret: the credential `{secret}`, or a file:\n# \
         client_secret_file = \"{secret}\"\n# Exactly as registered in the app.\nredirect_uri = \"{redirect}\"\n",
        system = provider.system(),
    );
    text.push_str(match provider {
        Provider::Quickbooks => {
            "# environment = \"sandbox\"   # a sandbox company\n\
             # scopes = \"com.intuit.quickbooks.accounting\"   # the default\n"
        }
        Provider::Xero => {
            "# Apps created since March 2026 take only these granular scopes (the default); an\n\
             # older app may list accounting.transactions.read instead of the invoices one.\n\
             # scopes = \"offline_access accounting.contacts.read accounting.invoices.read\"\n\
             # grant = \"client_credentials\"   # a Custom Connection\n"
        }
    });
    text
}

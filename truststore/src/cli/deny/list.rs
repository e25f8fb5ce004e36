//! `truststore deny list`: print the deny list.

use clap::Args as ClapArgs;
use truststore::deny;
use truststore::{Error, Exit};

use super::ListArg;
use crate::cli::Format;

/// The arguments of `deny list`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    pub list: ListArg,
}

impl Args {
    /// Prints the list: a line per entry, or (`--format json`) the document itself.
    pub async fn run(&self, format: Format) -> Result<Exit, Error> {
        let list = self.list.open().await?;
        let doc = list.read().await?;
        if format == Format::Json {
            print!("{}", doc.to_json());
            return Ok(Exit::Ok);
        }
        println!(
            "{}: sequence {}, {} entry(ies)",
            list.uri(),
            doc.sequence,
            doc.entries.len()
        );
        for e in &doc.entries {
            println!("{}", deny::describe(e));
        }
        Ok(Exit::Ok)
    }
}

//! How the `truststore` command ends.

/// The exit status of a command, from best to worst: 0 success, 3 warnings
/// only (CAs close to expiry, or API Gateway's `truststoreWarnings`), 4
/// nothing matched (`deny remove` found no entry to remove), 1 errors. 2 is
/// clap's, for a wrong command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Success, nothing to report.
    Ok,
    /// Warnings only.
    Warnings,
    /// Nothing to act on matched: a script can tell "already gone" from a
    /// failure.
    NothingMatched,
    /// Errors: an invalid bundle, a failed call, a timeout.
    Error,
}

impl Exit {
    /// The process exit code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Error => 1,
            Self::Warnings => 3,
            Self::NothingMatched => 4,
        }
    }

    /// Errors win over warnings, warnings over success.
    #[must_use]
    pub const fn of_counts(errors: usize, warnings: usize) -> Self {
        if errors > 0 {
            Self::Error
        } else if warnings > 0 {
            Self::Warnings
        } else {
            Self::Ok
        }
    }
}

#[cfg(test)]
mod tests;

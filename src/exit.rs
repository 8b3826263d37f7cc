//! The exit codes of every `regie` process, defined once. A leaf: it
//! imports nothing from the crate, so the console (which maps its fatal
//! network errors to a code) and the command line both use it without a
//! circle.
//!
//! Every command exits 0 on success, 2 on bad arguments (clap's usage
//! errors and the commands' own checks, see `crate::cli::usage`) and 1 on
//! an unexpected error (`main` prints it). `regie console` documents 0–5 (see [`crate::console`] and the
//! README); `regie verify-draw` uses 0, 1 (the record does not check out)
//! and 2 (the record cannot be read), and `regie audit verify` the same (1:
//! the chain or an anchor does not check out; 2: no such store or live).
//! `regie privacy erase|rectify` use 0, 2 (bad arguments, no token, not
//! confirmed), 3 (the hub cannot be reached, or did not answer in time),
//! 4 (token refused), 5 (version) and 6 (the hub refused the command).
//! Clap's own usage errors exit 2 too.

/// A process's exit code. The discriminants are the codes: scripts and the
/// README depend on them, so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Done as asked (the console: quit by the user).
    Success = 0,
    /// An unexpected error, or (`verify-draw`) a record that does not check out.
    Failure = 1,
    /// Bad arguments, configuration or input file (the console: no token,
    /// unreadable config, no terminal; `regie token`: no key in `--data`;
    /// `verify-draw`: unreadable record).
    Usage = 2,
    /// The hub cannot be reached (bad URL, refused, no answer, not a regie hub).
    Unreachable = 3,
    /// The hub refused the token (invalid, expired, or for another live).
    TokenRefused = 4,
    /// The hub does not speak this protocol version.
    UnsupportedVersion = 5,
    /// The hub refused the command (`regie privacy erase|rectify`: a role
    /// without the right, an unknown viewer, a blank reason or name).
    Refused = 6,
}

impl Exit {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn codes_are_the_documented_numbers() {
        let codes = [
            Exit::Success,
            Exit::Failure,
            Exit::Usage,
            Exit::Unreachable,
            Exit::TokenRefused,
            Exit::UnsupportedVersion,
            Exit::Refused,
        ]
        .map(Exit::code);
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6]);
    }
}

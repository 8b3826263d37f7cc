//! Staff-activity lines that name viewers, and where: a rectification
//! (Art. 16) relabels a line already on screen ("hid Marc's message #7",
//! "banned Marc", "instant win #2 drawn: Marc~marc") by the positions its
//! names were written at, never by searching the text for the old name
//! (another viewer may share it, or the verb may contain it).

use crate::protocol::{ViewerId, Winner};

/// A viewer named in an activity line: `what[at..]` starts with
/// `first_name`, then `~pseudonym` when the line names them as a winner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub viewer_id: ViewerId,
    pub at: usize,
    pub first_name: String,
    pub pseudonym: Option<String>,
}

impl Mention {
    fn text(&self) -> String {
        match &self.pseudonym {
            Some(p) => format!("{}~{p}", self.first_name),
            None => self.first_name.clone(),
        }
    }
}

/// An activity line being written, with the viewers it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityText {
    pub what: String,
    pub about: Vec<Mention>,
}

impl From<String> for ActivityText {
    fn from(what: String) -> Self {
        ActivityText {
            what,
            about: Vec::new(),
        }
    }
}

impl ActivityText {
    #[must_use]
    pub fn push(mut self, text: &str) -> Self {
        self.what.push_str(text);
        self
    }

    /// Names a viewer by first name (as the chat does).
    #[must_use]
    pub fn name(mut self, viewer_id: &ViewerId, first_name: &str) -> Self {
        self.about.push(Mention {
            viewer_id: viewer_id.clone(),
            at: self.what.len(),
            first_name: first_name.to_owned(),
            pseudonym: None,
        });
        self.what.push_str(first_name);
        self
    }

    /// Names winners as draws announce them (`first~pseudonym`), joined by
    /// ", "; `none` when there are none.
    #[must_use]
    pub fn winners(mut self, winners: &[Winner], none: &str) -> Self {
        if winners.is_empty() {
            return self.push(none);
        }
        for (i, w) in winners.iter().enumerate() {
            if i > 0 {
                self.what.push_str(", ");
            }
            let m = Mention {
                viewer_id: w.viewer_id.clone(),
                at: self.what.len(),
                first_name: w.first_name.clone(),
                pseudonym: (!w.pseudonym.is_empty()).then(|| w.pseudonym.clone()),
            };
            self.what.push_str(&m.text());
            self.about.push(m);
        }
        self
    }
}

/// Relabels every mention of `viewer` in `what` with the corrected names
/// (`None` keeps a field). Later mentions move with the text before them.
pub fn relabel(
    what: &mut String,
    about: &mut [Mention],
    viewer: &ViewerId,
    first_name: Option<&str>,
    pseudonym: Option<&str>,
) {
    about.sort_by_key(|m| m.at);
    for i in (0..about.len()).rev() {
        if about[i].viewer_id != *viewer {
            continue;
        }
        let old = about[i].text();
        let (at, end) = (about[i].at, about[i].at + old.len());
        if what.get(at..end) != Some(old.as_str()) {
            // The line no longer says what was recorded: leave it.
            continue;
        }
        let m = &mut about[i];
        if let Some(f) = first_name {
            f.clone_into(&mut m.first_name);
        }
        if let (Some(p), Some(shown)) = (pseudonym, m.pseudonym.as_mut()) {
            p.clone_into(shown);
        }
        let new = m.text();
        what.replace_range(at..end, &new);
        for later in &mut about[i + 1..] {
            later.at = later.at + new.len() - old.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn winner(id: &str, first: &str, pseudo: &str) -> Winner {
        Winner {
            viewer_id: ViewerId(id.into()),
            first_name: first.into(),
            pseudonym: pseudo.into(),
        }
    }

    #[test]
    fn only_the_rectified_viewers_names_change_by_position() {
        // "hid" is both the verb and Julie-1's first name; Julie-2 shares it.
        let line = ActivityText::from("instant win #2 drawn: ".to_string())
            .winners(
                &[
                    winner("v-1", "hid", "a"),
                    winner("v-2", "hid", "b"),
                    winner("v-1", "hid", "a"),
                ],
                "",
            )
            .push(" (hid 3)");
        let (mut what, mut about) = (line.what, line.about);
        relabel(
            &mut what,
            &mut about,
            &ViewerId("v-1".into()),
            Some("Joséphine"),
            Some("jo"),
        );
        assert_eq!(
            what,
            "instant win #2 drawn: Joséphine~jo, hid~b, Joséphine~jo (hid 3)"
        );
        relabel(
            &mut what,
            &mut about,
            &ViewerId("v-2".into()),
            Some("Hi"),
            None,
        );
        assert_eq!(
            what,
            "instant win #2 drawn: Joséphine~jo, Hi~b, Joséphine~jo (hid 3)"
        );
    }
}

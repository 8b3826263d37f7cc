//! The compiled rules of a live and their one entry point,
//! [`RuleSet::evaluate`]: a chat line and the time in, the strongest rule
//! that fires out, with its span in the line.
//!
//! Cost per line is what chat volume allows: all terms are one
//! Aho-Corasick automaton over the folded view (overlapping matches, so a
//! term hidden behind a longer non-word match is still seen), all regexes
//! one `RegexSet` pass (a single regex runs again only to place a match
//! that the set found; on a non-ASCII line each regex runs alone, see
//! [`RuleSet::verdicts`]), and links one scan.

use std::collections::HashSet;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::protocol::Millis;

use super::fold::fold;
use super::links::{LinkPolicy, find_links, is_domain};
use super::rule::{Action, Matcher, Rule, RuleError, RuleId, RuleKind, TermPattern};

/// The most a single regex may compile to; past it the rule is refused
/// with the crate's own size-limit message. Generous for any rule a
/// moderator writes, small enough that fifty of them stay cheap.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// The lazy DFA's cache for one regex.
pub const REGEX_DFA_SIZE_LIMIT: usize = 1024 * 1024;

/// Which rule fired on a line, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub rule: RuleId,
    pub kind: RuleKind,
    pub action: Action,
    /// What matched, as byte offsets into the line as given (always on
    /// character boundaries): a rules editor underlines it.
    pub span: Range<usize>,
}

/// One term in the automaton.
#[derive(Debug, Clone)]
struct CompiledTerm {
    rule: usize,
    open_start: bool,
    open_end: bool,
}

/// A live's rules, compiled.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    terms: Option<AhoCorasick>,
    /// Indexed by the automaton's pattern id.
    term_meta: Vec<CompiledTerm>,
    regex_set: Option<RegexSet>,
    /// Indexed like the set's patterns: (rule index, the regex alone).
    regexes: Vec<(usize, Regex)>,
    /// (rule index, lower-cased policy).
    links: Vec<(usize, LinkPolicy)>,
}

impl RuleSet {
    /// Checks and compiles `rules`. The first bad rule refuses the whole
    /// set, so a live never runs on half of what a moderator saved.
    pub fn compile(rules: Vec<Rule>) -> Result<Self, RuleError> {
        let mut seen = HashSet::new();
        let mut words = Vec::new();
        let mut term_meta = Vec::new();
        let mut sources = Vec::new();
        let mut regexes = Vec::new();
        let mut links = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let id = rule.id.0;
            if !seen.insert(id) {
                return Err(RuleError::DuplicateId { id });
            }
            match &rule.matcher {
                Matcher::Term(term) => {
                    let pattern = TermPattern::parse(id, term)?;
                    let word = fold(&pattern.word).text;
                    if word.trim().is_empty() {
                        return Err(RuleError::EmptyTerm { id });
                    }
                    words.push(word);
                    term_meta.push(CompiledTerm {
                        rule: index,
                        open_start: pattern.open_start,
                        open_end: pattern.open_end,
                    });
                }
                Matcher::Regex(source) => {
                    let regex = RegexBuilder::new(source)
                        .case_insensitive(true)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
                        .build()
                        .map_err(|e| RuleError::Regex {
                            id,
                            message: e.to_string(),
                        })?;
                    sources.push(source.clone());
                    regexes.push((index, regex));
                }
                Matcher::Links(policy) => {
                    let policy = match policy {
                        LinkPolicy::AllowList(domains) => {
                            let mut lower = Vec::with_capacity(domains.len());
                            for d in domains {
                                let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
                                if !is_domain(&d) {
                                    return Err(RuleError::BadDomain { id, domain: d });
                                }
                                lower.push(d);
                            }
                            LinkPolicy::AllowList(lower)
                        }
                        other => other.clone(),
                    };
                    links.push((index, policy));
                }
            }
        }
        let terms = if words.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&words)
                    .map_err(|e| RuleError::TooLarge(e.to_string()))?,
            )
        };
        let regex_set = if sources.is_empty() {
            None
        } else {
            // Each regex passed its own limits; the set holds them all.
            Some(
                RegexSetBuilder::new(&sources)
                    .case_insensitive(true)
                    .size_limit(REGEX_SIZE_LIMIT.saturating_mul(sources.len()))
                    .dfa_size_limit(REGEX_DFA_SIZE_LIMIT.saturating_mul(4))
                    .build()
                    .map_err(|e| RuleError::TooLarge(e.to_string()))?,
            )
        };
        Ok(Self {
            rules,
            terms,
            term_meta,
            regex_set,
            regexes,
            links,
        })
    }

    /// The rules as written, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The strongest rule that fires on `text` at `now` (block over hold
    /// over flag; then the earliest match), or `None` for a clean line.
    /// Expired rules do not fire.
    pub fn evaluate(&self, text: &str, now: Millis) -> Option<Verdict> {
        self.verdicts(text, now)
            .into_iter()
            .min_by_key(|v| (std::cmp::Reverse(v.action), v.span.start, v.rule))
    }

    /// Every rule that fires on `text` at `now`, each with its first match:
    /// what a rules editor shows when a sentence is tested.
    pub fn verdicts(&self, text: &str, now: Millis) -> Vec<Verdict> {
        let mut out: Vec<Verdict> = Vec::new();
        let fired = |out: &mut Vec<Verdict>, index: usize, span: Range<usize>| {
            let rule = &self.rules[index];
            if rule.is_active(now) && !out.iter().any(|v| v.rule == rule.id) {
                out.push(Verdict {
                    rule: rule.id,
                    kind: rule.matcher.kind(),
                    action: rule.action,
                    span,
                });
            }
        };
        if let Some(ac) = &self.terms {
            let view = fold(text);
            for m in ac.find_overlapping_iter(&view.text) {
                let meta = &self.term_meta[m.pattern().as_usize()];
                let (mut start, mut end) = (m.start(), m.end());
                let before = view.text[..start].chars().next_back();
                let after = view.text[end..].chars().next();
                let word_char = |c: char| c.is_alphanumeric();
                if !meta.open_start && before.is_some_and(word_char) {
                    continue;
                }
                if !meta.open_end && after.is_some_and(word_char) {
                    continue;
                }
                // A wildcard's span is the whole word it matched in.
                if meta.open_start {
                    start = view.text[..start]
                        .char_indices()
                        .rev()
                        .take_while(|&(_, c)| word_char(c))
                        .last()
                        .map_or(start, |(i, _)| i);
                }
                if meta.open_end {
                    end += view.text[end..]
                        .char_indices()
                        .find(|&(_, c)| !word_char(c))
                        .map_or(view.text.len() - end, |(i, _)| i);
                }
                fired(&mut out, meta.rule, view.original(start..end));
            }
        }
        if let Some(set) = &self.regex_set {
            if text.is_ascii() {
                for i in &set.matches(text) {
                    let (index, regex) = &self.regexes[i];
                    if let Some(m) = regex.find(text) {
                        fired(&mut out, *index, m.range());
                    }
                }
            } else {
                // A Unicode `\b` sends the set's lazy DFA back to the slow
                // NFA simulation of all fifty patterns on any non-ASCII
                // line; one regex at a time, each skips the line with its
                // own literal prefilter instead (measured in
                // `benches/rules.rs`: several times faster on the mix).
                for (index, regex) in &self.regexes {
                    if let Some(m) = regex.find(text) {
                        fired(&mut out, *index, m.range());
                    }
                }
            }
        }
        if !self.links.is_empty() {
            let found = find_links(text);
            for (index, policy) in &self.links {
                if let Some(link) = found.iter().find(|l| policy.refuses(&l.host)) {
                    fired(&mut out, *index, link.span.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(id: u32, t: &str, action: Action) -> Rule {
        Rule::new(id, Matcher::Term(t.into()), action)
    }

    fn set(rules: Vec<Rule>) -> RuleSet {
        RuleSet::compile(rules).expect("valid rules")
    }

    fn fires(rules: &RuleSet, text: &str) -> Option<(u32, String)> {
        rules
            .evaluate(text, 0)
            .map(|v| (v.rule.0, text[v.span].to_owned()))
    }

    #[test]
    fn a_term_matches_folded_spellings_and_reports_the_original_span() {
        let rules = set(vec![term(7, "arnaque", Action::Hold)]);
        for (text, matched) in [
            ("c'est une Arnaque !", "Arnaque"),
            ("c'est une arnaqué", "arnaqué"),
            ("ＡＲＮＡＱＵＥ totale", "ＡＲＮＡＱＵＥ"),
            ("arn4que", "arn4que"),
            ("une @rn@qu3", "@rn@qu3"),
        ] {
            assert_eq!(fires(&rules, text), Some((7, matched.into())), "{text}");
        }
        assert_eq!(fires(&rules, "tout va bien"), None);
    }

    #[test]
    fn terms_are_whole_words_unless_a_wildcard_opens_a_side() {
        let rules = set(vec![term(1, "con", Action::Hold)]);
        assert_eq!(fires(&rules, "Quel con"), Some((1, "con".into())));
        assert_eq!(fires(&rules, "la marque Conforama"), None);
        assert_eq!(fires(&rules, "déconnecté"), None);
        assert_eq!(fires(&rules, "xcon con"), Some((1, "con".into())));

        let prefix = set(vec![term(2, "arnaq*", Action::Hold)]);
        assert_eq!(
            fires(&prefix, "des arnaqueurs!"),
            Some((2, "arnaqueurs".into()))
        );
        assert_eq!(fires(&prefix, "arnaq"), Some((2, "arnaq".into())));
        assert_eq!(fires(&prefix, "pasarnaque"), None);

        let suffix = set(vec![term(3, "*naque", Action::Hold)]);
        assert_eq!(fires(&suffix, "une arnaque"), Some((3, "arnaque".into())));
        assert_eq!(fires(&suffix, "une arnaques"), None);

        let infix = set(vec![term(4, "*naq*", Action::Hold)]);
        assert_eq!(
            fires(&infix, "ARNAQUEURS ici"),
            Some((4, "ARNAQUEURS".into()))
        );
    }

    #[test]
    fn the_strongest_action_wins_then_the_earliest_match() {
        let rules = set(vec![
            term(1, "nul", Action::Flag),
            term(2, "idiot", Action::Hold),
            term(3, "arnaque", Action::Block),
        ]);
        let v = rules.evaluate("nul idiot arnaque", 0).expect("fires");
        assert_eq!(
            (v.rule, v.action, v.kind),
            (RuleId(3), Action::Block, RuleKind::Term)
        );
        assert_eq!(rules.verdicts("nul idiot arnaque", 0).len(), 3);
        let v = rules.evaluate("idiot et nul", 0).expect("fires");
        assert_eq!(v.rule, RuleId(2));
        let both = set(vec![
            term(1, "nul", Action::Flag),
            term(2, "naze", Action::Flag),
        ]);
        assert_eq!(
            both.evaluate("naze et nul", 0).map(|v| v.rule),
            Some(RuleId(2))
        );
    }

    #[test]
    fn an_expired_rule_stops_applying() {
        let rules = set(vec![
            term(1, "arnaque", Action::Block).expiring_at(10_000),
            term(2, "arnaque", Action::Flag),
        ]);
        assert_eq!(
            rules.evaluate("arnaque", 9_999).map(|v| v.rule),
            Some(RuleId(1))
        );
        assert_eq!(
            rules.evaluate("arnaque", 10_000).map(|v| v.rule),
            Some(RuleId(2))
        );
        let regex = set(vec![
            Rule::new(3, Matcher::Regex("promo".into()), Action::Hold).expiring_at(5),
        ]);
        assert!(regex.evaluate("promo", 4).is_some());
        assert!(regex.evaluate("promo", 5).is_none());
    }

    #[test]
    fn regexes_match_case_insensitively_on_the_typed_text() {
        let rules = set(vec![Rule::new(
            9,
            Matcher::Regex(r"\bgratuit\w*".into()),
            Action::Hold,
        )]);
        // ASCII lines go through the set, others through each regex alone.
        for (text, matched) in [
            ("iPhone GRATUITEMENT ici", "GRATUITEMENT"),
            ("iPhone gratuité ici 😍", "gratuité"),
        ] {
            let v = rules.evaluate(text, 0).expect("fires");
            assert_eq!((v.kind, &text[v.span]), (RuleKind::Regex, matched));
        }
        assert_eq!(
            rules.evaluate("rien de gratuit😍", 0).map(|v| v.rule),
            Some(RuleId(9))
        );
        assert_eq!(rules.evaluate("ingratuité 😍", 0), None);
    }

    #[test]
    fn a_bad_regex_is_refused_with_the_parsers_message() {
        let err = RuleSet::compile(vec![Rule::new(
            4,
            Matcher::Regex("(abc".into()),
            Action::Hold,
        )])
        .expect_err("unclosed group");
        let unclosed = String::from("(abc");
        let direct = Regex::new(&unclosed)
            .expect_err("unclosed group")
            .to_string();
        assert_eq!(
            err,
            RuleError::Regex {
                id: 4,
                message: direct
            }
        );
        assert!(err.to_string().contains("unclosed group"), "{err}");

        let huge = Rule::new(5, Matcher::Regex(r"\w{1000}\w{1000}".into()), Action::Hold);
        let err = RuleSet::compile(vec![huge]).expect_err("too big");
        assert!(
            matches!(&err, RuleError::Regex { id: 5, message } if message.contains("size limit")),
            "{err}"
        );
    }

    #[test]
    fn bad_terms_domains_and_ids_are_refused() {
        assert_eq!(
            RuleSet::compile(vec![term(1, "*", Action::Hold)]).err(),
            Some(RuleError::EmptyTerm { id: 1 })
        );
        assert!(matches!(
            RuleSet::compile(vec![term(1, "a*b", Action::Hold)]),
            Err(RuleError::InnerWildcard { .. })
        ));
        assert_eq!(
            RuleSet::compile(vec![term(1, "a", Action::Hold), term(1, "b", Action::Hold)]).err(),
            Some(RuleError::DuplicateId { id: 1 })
        );
        let links = Matcher::Links(LinkPolicy::AllowList(vec!["not a domain".into()]));
        assert!(matches!(
            RuleSet::compile(vec![Rule::new(2, links, Action::Hold)]),
            Err(RuleError::BadDomain { id: 2, .. })
        ));
    }

    #[test]
    fn the_link_policy_fires_on_links_it_does_not_allow() {
        let allow = Matcher::Links(LinkPolicy::AllowList(vec!["Ma-Marque.FR".into()]));
        let rules = set(vec![Rule::new(1, allow, Action::Hold)]);
        assert_eq!(fires(&rules, "voir https://shop.ma-marque.fr/robe"), None);
        let text = "ou bien promo.example.com/x lol";
        assert_eq!(fires(&rules, text), Some((1, "promo.example.com/x".into())));

        let none = set(vec![Rule::new(
            2,
            Matcher::Links(LinkPolicy::NoLinks),
            Action::Block,
        )]);
        assert_eq!(
            fires(&none, "www.ma-marque.fr"),
            Some((2, "www.ma-marque.fr".into()))
        );
        assert_eq!(fires(&none, "pas de lien ici. ok.merci"), None);

        let all = set(vec![Rule::new(
            3,
            Matcher::Links(LinkPolicy::AllLinks),
            Action::Block,
        )]);
        assert_eq!(fires(&all, "https://evil.io"), None);
    }

    #[test]
    fn no_rules_judge_nothing() {
        assert_eq!(RuleSet::default().evaluate("arnaque https://x.io", 0), None);
        assert_eq!(set(vec![]).evaluate("", 0), None);
    }
}

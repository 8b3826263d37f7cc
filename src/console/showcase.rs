//! The live's products, the one on the viewers' screen and the canned
//! answers, as this console holds them: read by the views and the popups
//! ([`super::popups::Context::showcase`]); the events that change them are
//! handled in [`super::state`].

use crate::protocol::{CannedAnswer, Product, Snapshot};

/// The live's products, the one showing and the canned answers.
#[derive(Debug, Clone, Default)]
pub struct Showcase {
    pub products: Vec<Product>,
    pub now_showing: Option<Product>,
    pub canned: Vec<CannedAnswer>,
}

impl Showcase {
    /// The product `id` names, if this console knows it.
    pub fn product(&self, id: u32) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    /// The snapshot's head replaces what the console held.
    pub(super) fn load(&mut self, snapshot: &Snapshot) {
        self.products.clone_from(&snapshot.products);
        self.now_showing.clone_from(&snapshot.now_showing);
        self.canned.clone_from(&snapshot.canned);
    }
}

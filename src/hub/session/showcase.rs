//! What the live shows and says about it: the live's products (the brand
//! file's, then those a host adds with `product_add`), the one "now
//! showing" on the viewers' screen (`now_showing`), and the canned answers
//! (the brand file's, then those saved with `canned_add`). Each change is
//! an event in the live's stream, so a restarted hub reads them back from
//! the event log ([`crate::store::Store::showcase`]). Questions asked while
//! a product shows carry its id ([`Session::showing_id`]).

use super::{Decision, Principal, Session};
use crate::catalogue::{self, FIRST_ADDED_PRODUCT_ID, MAX_CANNED, MAX_PRODUCTS};
use crate::protocol::{CannedAnswer, Command, ErrorCode, Event, Millis, Product, Refusal};
use crate::store::StoredShowcase;

/// The session's share of the showcase.
#[derive(Debug, Clone, Default)]
pub(super) struct Showcase {
    pub(super) products: Vec<Product>,
    pub(super) now_showing: Option<Product>,
    pub(super) canned: Vec<CannedAnswer>,
}

impl Session {
    /// The brand file's products and canned answers for this live, then
    /// what the live's log adds to them (products added, the last now
    /// showing, canned answers saved), as the actor reads them at start.
    pub fn set_showcase(
        &mut self,
        products: Vec<Product>,
        canned: Vec<CannedAnswer>,
        stored: StoredShowcase,
    ) {
        let mut showcase = Showcase {
            products,
            now_showing: None,
            canned,
        };
        for p in stored.added {
            if !showcase.products.iter().any(|q| q.id == p.id) {
                showcase.products.push(p);
            }
        }
        for c in stored.canned {
            if !showcase.canned.contains(&c) {
                showcase.canned.push(c);
            }
        }
        showcase.now_showing = stored.now_showing;
        self.showcase = showcase;
    }

    /// A showcase change another hub node committed (`follow`).
    pub(super) fn follow_showcase(&mut self, event: &Event) {
        let showcase = &mut self.showcase;
        match event {
            Event::ProductAdded { product }
                if !showcase.products.iter().any(|p| p.id == product.id) =>
            {
                showcase.products.push(product.clone());
            }
            Event::NowShowing { product } => showcase.now_showing.clone_from(product),
            Event::CannedAdded { canned } if !showcase.canned.contains(canned) => {
                showcase.canned.push(canned.clone());
            }
            _ => {}
        }
    }

    /// The id of the product showing now, which a question asked now carries.
    pub(super) fn showing_id(&self) -> Option<u32> {
        self.showcase.now_showing.as_ref().map(|p| p.id)
    }

    /// `product_add`, `now_showing` and `canned_add`, once the sender may.
    pub(super) fn showcase_command(
        &mut self,
        who: &Principal,
        command: &Command,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        match command {
            Command::ProductAdd { name, price, link } => {
                if self.showcase.products.len() >= MAX_PRODUCTS {
                    return Err(Refusal::invalid(format!(
                        "this live already has {MAX_PRODUCTS} products"
                    )));
                }
                let id = self
                    .showcase
                    .products
                    .iter()
                    .map(|p| p.id + 1)
                    .max()
                    .unwrap_or(0)
                    .max(FIRST_ADDED_PRODUCT_ID);
                let product = catalogue::product(id, name, price, link.as_deref())
                    .map_err(Refusal::invalid)?;
                let target = product.name.clone();
                self.showcase.products.push(product.clone());
                if !catalogue::fits(&self.showcase.products, &self.showcase.canned) {
                    self.showcase.products.pop();
                    return Err(too_big());
                }
                let mut d = self.emit(vec![Event::ProductAdded { product }], now);
                d.audit = Self::audit(who, "product_add", &target, "", now);
                Ok(d)
            }
            Command::NowShowing { product_id } => {
                let product = match product_id {
                    None => None,
                    Some(id) => Some(
                        self.showcase
                            .products
                            .iter()
                            .find(|p| p.id == *id)
                            .cloned()
                            .ok_or_else(|| {
                                Refusal::not_found(format!("no product {id} in this live"))
                            })?,
                    ),
                };
                if product == self.showcase.now_showing {
                    // Already on screen (or already nothing): no event.
                    return Ok(self.emit(Vec::new(), now));
                }
                let target = product.as_ref().map_or(String::new(), |p| p.name.clone());
                self.showcase.now_showing.clone_from(&product);
                let mut d = self.emit(vec![Event::NowShowing { product }], now);
                d.audit = Self::audit(who, "now_showing", &target, "", now);
                Ok(d)
            }
            Command::CannedAdd { title, text } => {
                let canned = catalogue::canned(title, text).map_err(Refusal::invalid)?;
                if self.showcase.canned.contains(&canned) {
                    return Ok(self.emit(Vec::new(), now));
                }
                if self.showcase.canned.len() >= MAX_CANNED {
                    return Err(Refusal::new(
                        ErrorCode::Invalid,
                        format!("there are already {MAX_CANNED} canned answers"),
                    ));
                }
                let target = canned.title.clone();
                self.showcase.canned.push(canned.clone());
                if !catalogue::fits(&self.showcase.products, &self.showcase.canned) {
                    self.showcase.canned.pop();
                    return Err(too_big());
                }
                let mut d = self.emit(vec![Event::CannedAdded { canned }], now);
                d.audit = Self::audit(who, "canned_add", &target, "", now);
                Ok(d)
            }
            _ => Err(Refusal::invalid("not a showcase command")),
        }
    }
}

/// The showcase is full by size: a staff welcome carries all of it.
fn too_big() -> Refusal {
    Refusal::invalid(format!(
        "the live's products and canned answers would exceed {} KiB together",
        catalogue::MAX_SHOWCASE_BYTES / 1024
    ))
}

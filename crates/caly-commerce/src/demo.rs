//! The embedded demo store's content and rules: a small Indian shop with products, customers
//! and orders in every state, so that a fresh `cargo run --release` has a store to talk to.
//! Persistence is the database's (`caly-store`); this module says what is in the store and
//! what each action does to an order.

use caly_core::{
    action::ActionKind,
    order::{Item, Order, OrderStatus, PaymentMethod, PaymentStatus, Product, Tracking, TrackingEvent},
};

use crate::{CommerceError, Receipt};

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

/// `(sku, title, rupees, in stock, variants, words people use for it)`.
const PRODUCTS: [(&str, &str, i64, u32, &str, &str); 12] = [
    ("KUR-01", "Cotton Kurta", 899, 25, "S M L XL", "kurta kurtas कुर्ता कुर्ते"),
    ("SAR-01", "Banarasi Silk Saree", 3_499, 8, "", "saree sari साड़ी"),
    ("JNS-01", "Slim Fit Jeans", 1_299, 40, "28 30 32 34 36", "jeans denim जींस"),
    ("SHO-01", "Running Shoes", 2_199, 0, "6 7 8 9 10", "shoes sneakers joote jute जूते"),
    ("COO-01", "Pressure Cooker 5 L", 1_599, 12, "", "cooker pressure कुकर"),
    ("MIX-01", "Mixer Grinder 750 W", 3_299, 6, "", "mixer grinder मिक्सर"),
    ("BOT-01", "Steel Water Bottle 1 L", 449, 100, "", "bottle botal बोतल"),
    ("EAR-01", "Wireless Earphones", 1_499, 30, "Black White", "earphones earbuds ईयरफोन"),
    ("COV-01", "Phone Cover", 299, 200, "iPhone 15, Samsung S23", "cover case कवर"),
    ("BED-01", "Cotton Bedsheet Double", 999, 15, "", "bedsheet chadar चादर"),
    ("KID-01", "Kids Kurta Set", 699, 20, "2-3Y 4-5Y 6-7Y", "kids bachchon बच्चों"),
    ("LMP-01", "Table Lamp", 1_199, 10, "", "lamp लैंप"),
];

/// `(number, customer, phone, address, PIN, status, placed hours ago, items, method, paid)`.
type Seed = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    OrderStatus,
    i64,
    &'static [(&'static str, u32)],
    PaymentMethod,
    PaymentStatus,
);

const ORDERS: [Seed; 15] = {
    use OrderStatus::*;
    use PaymentMethod::*;
    use PaymentStatus::*;
    [
        (
            "1001",
            "Asha Verma",
            "+919876543210",
            "Flat 12B, Lotus Apartments, Indiranagar, Bengaluru",
            "560038",
            Confirmed,
            2,
            &[("KUR-01", 1)],
            Prepaid,
            Paid,
        ),
        (
            "1002",
            "Rohit Sharma",
            "+919812345678",
            "House 45, Sector 15, Gurugram",
            "122001",
            Packed,
            20,
            &[("JNS-01", 1)],
            Cod,
            Pending,
        ),
        (
            "1003",
            "Priya Nair",
            "+919900112233",
            "22 Marine Drive, Kochi",
            "682031",
            Shipped,
            72,
            &[("MIX-01", 1)],
            Prepaid,
            Paid,
        ),
        (
            "1004",
            "Imran Khan",
            "+919823456789",
            "7 Civil Lines, Lucknow",
            "226001",
            OutForDelivery,
            96,
            &[("BOT-01", 2)],
            Cod,
            Pending,
        ),
        (
            "1005",
            "Sunita Devi",
            "+919934567890",
            "Ward 9, Boring Road, Patna",
            "800001",
            Delivered,
            144,
            &[("SAR-01", 1)],
            Prepaid,
            Paid,
        ),
        (
            "1006",
            "Arjun Mehta",
            "+919845678901",
            "B-204 Shanti Kunj, Ahmedabad",
            "380015",
            Delivered,
            600,
            &[("EAR-01", 1)],
            Prepaid,
            Paid,
        ),
        (
            "1007",
            "Kavya Reddy",
            "+919856789012",
            "Plot 3, Jubilee Hills, Hyderabad",
            "500033",
            Cancelled,
            120,
            &[("BOT-01", 1)],
            Prepaid,
            Refunded,
        ),
        (
            "1008",
            "Vikram Singh",
            "+919867890123",
            "14 Mall Road, Shimla",
            "171001",
            Returned,
            720,
            &[("SHO-01", 1)],
            Prepaid,
            Refunded,
        ),
        (
            "1009",
            "Neha Gupta",
            "+919878901234",
            "56 Model Town, Ludhiana",
            "141002",
            Confirmed,
            40,
            &[("BED-01", 1)],
            Prepaid,
            Paid,
        ),
        (
            "1010",
            "Rahul Das",
            "+919889012345",
            "9 Salt Lake Sector 2, Kolkata",
            "700091",
            Delivered,
            72,
            &[("COO-01", 1), ("BOT-01", 1)],
            Prepaid,
            Paid,
        ),
        (
            "1011",
            "Anjali Iyer",
            "+919890123456",
            "31 TTK Road, Alwarpet, Chennai",
            "600018",
            Shipped,
            48,
            &[("COV-01", 1)],
            Prepaid,
            Paid,
        ),
        (
            "1012",
            "Deepak Yadav",
            "+919801234567",
            "Village Rampur, Varanasi",
            "221005",
            Delivered,
            120,
            &[("KID-01", 2)],
            Cod,
            Paid,
        ),
        (
            "1013",
            "Fatima Sheikh",
            "+919812398765",
            "12 Mohammed Ali Road, Mumbai",
            "400003",
            Confirmed,
            1,
            &[("LMP-01", 1)],
            Cod,
            Pending,
        ),
        (
            "1014",
            "Manoj Tiwari",
            "+919823409876",
            "88 Arera Colony, Bhopal",
            "462016",
            Packed,
            10,
            &[("JNS-01", 1), ("KUR-01", 1)],
            Prepaid,
            Paid,
        ),
        (
            "1015",
            "Pooja Patel",
            "+919834510987",
            "5 Alkapuri, Vadodara",
            "390007",
            Delivered,
            168,
            &[("KUR-01", 1)],
            Prepaid,
            PartiallyRefunded,
        ),
    ]
};

pub fn products() -> Vec<Product> {
    PRODUCTS
        .iter()
        .map(|&(sku, title, rupees, in_stock, variants, _)| Product {
            sku: sku.into(),
            title: title.into(),
            price_paise: rupees * 100,
            in_stock,
            variants: split_variants(variants),
        })
        .collect()
}

fn split_variants(variants: &str) -> Vec<String> {
    let separator = if variants.contains(',') { ',' } else { ' ' };
    variants.split(separator).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect()
}

/// The demo orders as of `now` (microseconds): times are relative, so a store seeded today has
/// orders delivered yesterday and orders outside the return window.
pub fn orders(now: i64) -> Vec<Order> {
    ORDERS.iter().map(|seed| order(seed, now)).collect()
}

fn order(&(number, name, phone, address, pincode, status, hours_ago, items, method, paid): &Seed, now: i64) -> Order {
    use OrderStatus::*;
    let placed_at = now - hours_ago * HOUR;
    let items: Vec<Item> = items
        .iter()
        .map(|&(sku, quantity)| {
            let product = PRODUCTS.iter().find(|p| p.0 == sku).expect("seeded orders name seeded products");
            Item { sku: sku.into(), title: product.1.into(), quantity, price_paise: product.2 * 100 }
        })
        .collect();
    let total_paise = items.iter().map(|i| i.price_paise * i64::from(i.quantity)).sum();
    let shipped = matches!(status, Shipped | OutForDelivery | Delivered | Returned);
    let delivered_at = matches!(status, Delivered | Returned).then(|| placed_at + 3 * DAY);
    let refunded_paise = match paid {
        PaymentStatus::Refunded => total_paise,
        PaymentStatus::PartiallyRefunded => 20_000,
        _ => 0,
    };
    let tracking = shipped.then(|| tracking(number, placed_at, status, delivered_at));
    Order {
        number: number.into(),
        customer_name: name.into(),
        phone: phone.into(),
        email: Some(format!("{}@example.in", name.to_lowercase().replace(' ', "."))),
        status,
        placed_at,
        delivered_at,
        total_paise,
        refunded_paise,
        payment_method: method,
        payment_status: paid,
        items,
        address: address.into(),
        pincode: pincode.into(),
        tracking,
        invoice_url: shipped.then(|| format!("https://demo.caly.test/invoices/{number}.pdf")),
    }
}

fn tracking(number: &str, placed_at: i64, status: OrderStatus, delivered_at: Option<i64>) -> Tracking {
    let carriers = ["Delhivery", "Blue Dart", "Ekart", "DTDC"];
    let carrier = carriers[number.bytes().map(usize::from).sum::<usize>() % carriers.len()];
    let mut events = vec![
        TrackingEvent { at: placed_at + DAY, location: "Bhiwandi hub".into(), description: "Picked up".into() },
        TrackingEvent { at: placed_at + 2 * DAY, location: "Nagpur".into(), description: "In transit".into() },
    ];
    if status == OrderStatus::OutForDelivery {
        events.push(TrackingEvent {
            at: placed_at + 3 * DAY,
            location: "Local hub".into(),
            description: "Out for delivery".into(),
        });
    }
    if let Some(at) = delivered_at {
        events.push(TrackingEvent { at, location: "Customer address".into(), description: "Delivered".into() });
    }
    Tracking {
        carrier: carrier.into(),
        awb: format!("77{number}0042"),
        url: Some(format!("https://demo.caly.test/track/77{number}0042")),
        eta: delivered_at.or(Some(placed_at + 5 * DAY)),
        events,
    }
}

/// Products whose name or common words match the query, best first.
pub fn search(products: &[Product], query: &str) -> Vec<Product> {
    let query = query.to_lowercase();
    let words: Vec<&str> = query
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| c.is_ascii_punctuation() || c == '।'))
        .filter(|w| w.chars().count() > 2)
        .collect();
    let mut scored: Vec<(usize, &Product)> = products
        .iter()
        .filter_map(|product| {
            let keywords = PRODUCTS.iter().find(|p| p.0 == product.sku).map_or("", |p| p.5);
            let haystack = format!("{} {keywords}", product.title.to_lowercase());
            let score = words.iter().filter(|w| haystack.split_whitespace().any(|h| h.starts_with(*w))).count();
            (score > 0).then_some((score, product))
        })
        .collect();
    // Of equal matches, the product whose name says least else is the closer one
    // ("kurta" is the Cotton Kurta before the Kids Kurta Set).
    scored.sort_by_key(|(score, product)| (std::cmp::Reverse(*score), product.title.split_whitespace().count()));
    scored.into_iter().map(|(_, product)| product.clone()).collect()
}

/// What an action does to a demo order; the store refuses what a real shop could not do.
pub fn apply(
    kind: ActionKind,
    order: &mut Order,
    amount_paise: Option<i64>,
    address: Option<&str>,
) -> Result<Receipt, CommerceError> {
    use OrderStatus::*;
    let refuse = |why: &str| Err(CommerceError::Refused(format!("order {} {why}", order.number)));
    match kind {
        ActionKind::Cancel => {
            if !matches!(order.status, Confirmed | Packed | Shipped | OutForDelivery) {
                return refuse(&format!("is {}", order.status));
            }
            order.status = Cancelled;
            let refunded = order.refundable_paise();
            refund_paise(order, refunded);
            Ok(Receipt {
                reference: format!("CAN-{}", order.number),
                detail: format!("cancelled; {refunded} paise refunded"),
            })
        }
        ActionKind::Refund => {
            let amount = amount_paise.ok_or(CommerceError::Missing("an amount"))?;
            if amount <= 0 || amount > order.refundable_paise() {
                return refuse("has less than that left to refund");
            }
            refund_paise(order, amount);
            Ok(Receipt {
                reference: format!("RF-{}-{}", order.number, order.refunded_paise),
                detail: format!("{amount} paise refunded"),
            })
        }
        ActionKind::Return | ActionKind::Exchange => {
            if order.status != Delivered {
                return refuse("is not delivered");
            }
            let prefix = if kind == ActionKind::Return { "RET" } else { "EXC" };
            Ok(Receipt {
                reference: format!("{prefix}-{}", order.number),
                detail: format!("{kind} requested; pickup booked"),
            })
        }
        ActionKind::AddressChange => {
            let address = address.ok_or(CommerceError::Missing("an address"))?;
            if !matches!(order.status, Confirmed | Packed) {
                return refuse("has shipped");
            }
            order.address = address.to_owned();
            if let Some(pincode) = six_digits(address) {
                order.pincode = pincode;
            }
            Ok(Receipt { reference: format!("ADR-{}", order.number), detail: "shipping address updated".into() })
        }
    }
}

fn refund_paise(order: &mut Order, amount: i64) {
    if amount == 0 {
        return;
    }
    order.refunded_paise += amount;
    order.payment_status = if order.refunded_paise >= order.total_paise {
        PaymentStatus::Refunded
    } else {
        PaymentStatus::PartiallyRefunded
    };
}

/// The last run of exactly six digits: the PIN code in an address.
fn six_digits(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit()).rfind(|run| run.len() == 6).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000_000;

    #[test]
    fn the_demo_store_has_orders_in_every_state() {
        let orders = orders(NOW);
        for status in OrderStatus::ALL {
            assert!(orders.iter().any(|o| o.status == *status), "no {status} order");
        }
        let delivered_recently = orders.iter().find(|o| o.number == "1005").unwrap();
        assert!(delivered_recently.delivered_at.unwrap() > NOW - 7 * DAY);
        let rahul = orders.iter().find(|o| o.number == "1010").unwrap();
        assert_eq!(rahul.total_paise, 204_800);
        assert!(orders.iter().all(|o| caly_core::PhoneNumber::parse(&o.phone).is_ok()));
    }

    #[test]
    fn cancelling_a_paid_order_refunds_it_and_twice_is_refused() {
        let mut order = orders(NOW).into_iter().find(|o| o.number == "1001").unwrap();
        let receipt = apply(ActionKind::Cancel, &mut order, None, None).unwrap();
        assert_eq!(receipt.reference, "CAN-1001");
        assert_eq!(
            (order.status, order.payment_status, order.refunded_paise),
            (OrderStatus::Cancelled, PaymentStatus::Refunded, 89_900)
        );
        assert!(matches!(apply(ActionKind::Cancel, &mut order, None, None), Err(CommerceError::Refused(_))));
    }

    #[test]
    fn partial_refunds_add_up_and_never_exceed_what_was_paid() {
        let mut order = orders(NOW).into_iter().find(|o| o.number == "1010").unwrap();
        apply(ActionKind::Refund, &mut order, Some(44_900), None).unwrap();
        assert_eq!(order.payment_status, PaymentStatus::PartiallyRefunded);
        assert!(apply(ActionKind::Refund, &mut order, Some(200_000), None).is_err());
        apply(ActionKind::Refund, &mut order, Some(159_900), None).unwrap();
        assert_eq!(order.payment_status, PaymentStatus::Refunded);
    }

    #[test]
    fn a_new_address_brings_its_pin_code() {
        let mut order = orders(NOW).into_iter().find(|o| o.number == "1009").unwrap();
        apply(ActionKind::AddressChange, &mut order, None, Some("Flat 402, Sunrise Apartments, Mumbai 400053"))
            .unwrap();
        assert_eq!(order.pincode, "400053");
    }

    #[test]
    fn products_are_found_by_the_words_callers_use() {
        let products = products();
        assert_eq!(search(&products, "kurta XL size mein milega kya")[0].sku, "KUR-01");
        assert_eq!(search(&products, "क्या जूते स्टॉक में हैं")[0].sku, "SHO-01");
        assert_eq!(search(&products, "साड़ी की कीमत")[0].sku, "SAR-01");
        assert_eq!(search(&products, "do you have the pressure cooker")[0].sku, "COO-01");
        assert!(search(&products, "tell me a joke").is_empty());
    }
}

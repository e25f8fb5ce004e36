//! One list per closed set of labels (reason codes, metric names, causes,
//! results): the enum, its `ALL` and its `as_str` come from the same lines,
//! so a variant cannot be added without its label or left out of `ALL`.

/// Declares a fieldless enum in which each variant has one label, with
/// `ALL` (every variant, in the order written) and `as_str` (the label).
macro_rules! labelled_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $label:literal, )+
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in the order the enum declares them.
            pub const ALL: &'static [Self] = &[ $( Self::$variant, )+ ];

            /// The label: the value logs, metrics and the context carry.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $label, )+
                }
            }
        }
    };
}

pub(crate) use labelled_enum;

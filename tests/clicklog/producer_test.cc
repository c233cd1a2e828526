// Placeholder: replaced by the unit tests of this file.

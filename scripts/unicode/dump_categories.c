/* Prints, for every code point, the Unicode general category of the UCD compiled into
 * unicodedata_db.h (the database CPython's unicodedata module and unicodedata2 are built from). */
#include <stdio.h>

typedef unsigned int Py_UCS4;
typedef struct {
  const unsigned char category, combining, bidirectional, mirrored, east_asian_width, normalization_quick_check;
} _PyUnicode_DatabaseRecord;
typedef struct change_record {
  const unsigned char bidir_changed, category_changed, decimal_changed, mirrored_changed, east_asian_width_changed;
  const double numeric_changed;
} change_record;

#include "unicodedata_db.h"

int main(void) {
  for (Py_UCS4 code = 0; code < 0x110000; ++code) {
    int index = index1[(code >> SHIFT)];
    index = index2[(index << SHIFT) + (code & ((1 << SHIFT) - 1))];
    printf("%X %s\n", code, _PyUnicode_CategoryNames[_PyUnicode_Database_Records[index].category]);
  }
  return 0;
}

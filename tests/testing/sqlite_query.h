#pragma once
// Read-only SQL against a relaytap store file, for tests that check what was recorded.

#include <string>
#include <vector>

namespace relaytap::testing {

// The first column of the first row as text ("" if no row or NULL; "SQL error: ..." if the
// statement does not prepare).
std::string Query(const std::string& db_path, const std::string& sql);

// Every row, its columns joined with '|' (NULL as "NULL"); a prepare error is one
// "SQL error: ..." row.
std::vector<std::string> QueryRows(const std::string& db_path, const std::string& sql);

}  // namespace relaytap::testing

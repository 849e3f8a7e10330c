/* "Is my product affected?" in the browser, from the published lookup index.
 *
 * The same rules and sentences as recalldesk/public/lookup.py (tests/test_lookup_js.py holds
 * the two to the same answers): change both together. No dependencies and no build step.
 *
 * Wires itself to <form data-lookup-index="lookup-index.json"> with inputs named code, gtin,
 * lot, serial, account and postcode, writing the answer into [data-lookup-result]; a
 * [data-lookup-scan] button reads a barcode with the camera where the browser has
 * BarcodeDetector, and is hidden where it has not.
 */
(function () {
  "use strict";

  var MAX_INPUT = 200;
  var FIELDS = ["code", "gtin", "lot", "serial", "account", "postcode"];
  var LABELS = {
    code: "the barcode",
    gtin: "the barcode number",
    lot: "the lot code",
    serial: "the serial number",
    account: "the account number",
    postcode: "the postcode"
  };
  var DO_RECALL = "Stop using it and follow the instructions on this page.";
  var DO_SERVICE = "Follow the instructions on this page.";
  var LOT_WHERE = "printed near the barcode or the date mark";
  var SERIAL_WHERE = "printed on the product's rating label (often marked S/N)";
  var MONTHS = ("January February March April May June July August September October " +
    "November December").split(" ");
  var UNREADABLE = "This barcode cannot be read: enter the numbers printed under it instead.";
  var NOT_A_PRODUCT = "This barcode does not identify a product: enter the numbers printed " +
    "under it instead.";
  // GS1 element strings whose length is fixed by their first two digits; every other one
  // runs to the next GS (FNC1) or the end.
  var FIXED = {
    "00": 20, "01": 16, "02": 16, "03": 16, "04": 18, "11": 8, "12": 8, "13": 8, "14": 8,
    "15": 8, "16": 8, "17": 8, "18": 8, "19": 8, "20": 4, "31": 10, "32": 10, "33": 10,
    "34": 10, "35": 10, "36": 10, "41": 16
  };
  var CSET82 = /^[!"%&'()*+,\-.\/0-9:;<=>?A-Z_a-z]{1,20}$/;
  var GS = "\x1d";

  function fail(message) {
    var error = new Error(message);
    error.lookup = true;
    throw error;
  }

  function capitalise(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function fold(text) {
    return String(text).normalize("NFKC")
      .replace(/[\u2010-\u2015\u2212]/g, "-")
      .replace(/[ \t\n\r\f\v\u200b\ufeff]+/g, " ")
      .replace(/^ +| +$/g, "")
      .toUpperCase();
  }

  function foldAccount(text) {
    return fold(text).replace(/[ \-.\/]/g, "");
  }

  function foldPostcode(text) {
    return fold(text).replace(/ /g, "");
  }

  function checkDigit(payload) {
    var total = 0;
    for (var i = 0; i < payload.length; i++) {
      var digit = Number(payload.charAt(payload.length - 1 - i));
      total += digit * (i % 2 === 0 ? 3 : 1);
    }
    return (10 - total % 10) % 10;
  }

  function cleanGtin(text) {
    var digits = fold(text).replace(/[ \-]/g, "");
    if (!/^[0-9]+$/.test(digits) || [8, 12, 13, 14].indexOf(digits.length) < 0) {
      fail("A barcode number (GTIN) has 8, 12, 13 or 14 digits: enter the digits printed " +
        "under the barcode.");
    }
    if (checkDigit(digits.slice(0, -1)) !== Number(digits.slice(-1))) {
      fail("The barcode number " + digits + " does not add up: check its digits, the last " +
        "one especially.");
    }
    while (digits.length < 14) digits = "0" + digits;
    return digits;
  }

  function checked(text, name) {
    var folded = fold(text);
    if (/[\x00-\x1f\x7f-\x9f]/.test(folded)) {
      fail(capitalise(LABELS[name]) + " has characters that cannot be printed.");
    }
    return folded;
  }

  function element(values, ai, value) {
    if ((ai === "01" || ai === "10" || ai === "21") && !(ai in values)) {
      if (ai === "01" ? !/^[0-9]{14}$/.test(value) : !CSET82.test(value)) fail(UNREADABLE);
      values[ai] = value;
    }
  }

  function decode(text) {
    try {
      return decodeURIComponent(text);
    } catch (error) {
      return fail(UNREADABLE);
    }
  }

  function parseLink(text, values) {
    text = text.split("#")[0];
    var mark = text.indexOf("?");
    var path = (mark < 0 ? text : text.slice(0, mark)).replace(/\/+$/, "");
    var search = mark < 0 ? "" : text.slice(mark + 1);
    var match = /^https?:\/\/[^\/]+(\/.*)?$/i.exec(path);
    if (!match) fail(UNREADABLE);
    var parts = (match[1] || "").split("/").slice(1);
    var at = parts.indexOf("01");
    if (at < 0) fail(NOT_A_PRODUCT);
    if ((parts.length - at) % 2 !== 0) fail(UNREADABLE);
    for (var i = at; i < parts.length; i += 2) {
      var value = decode(parts[i + 1]);
      if (parts[i] === "01" && /^[0-9]{8,13}$/.test(value)) {
        while (value.length < 14) value = "0" + value;
      }
      element(values, parts[i], value);
    }
    search.split("&").forEach(function (pair) {
      var equals = pair.indexOf("=");
      if (equals > 0 && /^[0-9]{2,4}$/.test(pair.slice(0, equals))) {
        element(values, pair.slice(0, equals), decode(pair.slice(equals + 1)));
      }
    });
  }

  function parseBracketed(text, values) {
    if (!/^(\([0-9]{2,4}\)[^()]*)+$/.test(text)) fail(UNREADABLE);
    var pattern = /\(([0-9]{2,4})\)([^()]*)/g;
    var match;
    while ((match = pattern.exec(text))) element(values, match[1], match[2]);
  }

  function parseRaw(text, values) {
    var at = 0;
    while (at < text.length) {
      if (text.charAt(at) === GS) {
        at += 1;
        continue;
      }
      var two = text.substr(at, 2);
      if (!/^[0-9]{2}$/.test(two)) fail(UNREADABLE);
      var end;
      if (FIXED[two]) {
        end = at + FIXED[two];
        if (end > text.length || !/^[0-9]+$/.test(text.slice(at, end))) fail(UNREADABLE);
      } else {
        end = text.indexOf(GS, at);
        if (end < 0) end = text.length;
      }
      element(values, two, text.slice(at + 2, end));
      at = end;
    }
  }

  function parseCode(code) {
    var text = code.normalize("NFKC").replace(/[ \t\r\n\u00a0]+/g, "");
    var values = {};
    if (/^https?:\/\//i.test(text)) {
      parseLink(text, values);
    } else if (text.charAt(0) === "(") {
      parseBracketed(text, values);
    } else {
      text = text.replace(/^\][A-Za-z][0-9A-Za-z]/, "").replace(/^\x1d+/, "");
      if (/^[0-9]+$/.test(text) && [8, 12, 13, 14].indexOf(text.length) >= 0) {
        return { gtin: cleanGtin(text) };
      }
      parseRaw(text, values);
    }
    if (!Object.keys(values).length) fail(NOT_A_PRODUCT);
    var found = {
      lot: checked(values["10"] || "", "lot"),
      serial: checked(values["21"] || "", "serial")
    };
    if (values["01"]) found.gtin = cleanGtin(values["01"]);
    return found;
  }

  /* The form's fields as a query ({gtin, lot, serial, account, postcode}, folded), or
   * {error} with a plain message when they cannot be read. */
  function parse(fields) {
    try {
      var given = {};
      FIELDS.forEach(function (name) {
        var value = fields && fields[name] != null ? String(fields[name]) : "";
        if (Array.from(value).length > MAX_INPUT) {
          fail(capitalise(LABELS[name]) + " is too long: it has at most " + MAX_INPUT +
            " characters.");
        }
        given[name] = value;
      });
      var found = fold(given.code) ? parseCode(given.code) : {};
      var query = {
        gtin: fold(given.gtin) ? cleanGtin(given.gtin) : (found.gtin || ""),
        lot: checked(given.lot, "lot") || found.lot || "",
        serial: checked(given.serial, "serial") || found.serial || "",
        account: checked(given.account, "account").replace(/[ \-.\/]/g, ""),
        postcode: checked(given.postcode, "postcode")
      };
      if (!(query.gtin || query.lot || query.serial || query.account || query.postcode)) {
        fail("Enter the barcode, the lot code or serial number, or your account number or " +
          "postcode.");
      }
      return query;
    } catch (error) {
      if (error.lookup) return { error: error.message };
      throw error;
    }
  }

  /* -- HMAC-SHA256, for the account hashes (crypto.subtle needs https) -- */

  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2
  ];

  function utf8(text) {
    if (typeof TextEncoder !== "undefined") return Array.from(new TextEncoder().encode(text));
    var binary = unescape(encodeURIComponent(text));
    var bytes = [];
    for (var i = 0; i < binary.length; i++) bytes.push(binary.charCodeAt(i));
    return bytes;
  }

  function ror(x, n) {
    return (x >>> n) | (x << (32 - n));
  }

  function sha256(bytes) {
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
      0x1f83d9ab, 0x5be0cd19];
    var bits = bytes.length * 8;
    var m = bytes.concat([0x80]);
    while (m.length % 64 !== 56) m.push(0);
    m.push(0, 0, 0, 0, (bits >>> 24) & 255, (bits >>> 16) & 255, (bits >>> 8) & 255, bits & 255);
    var w = new Array(64);
    for (var off = 0; off < m.length; off += 64) {
      for (var t = 0; t < 64; t++) {
        if (t < 16) {
          var j = off + t * 4;
          w[t] = (m[j] << 24) | (m[j + 1] << 16) | (m[j + 2] << 8) | m[j + 3];
        } else {
          var s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ (w[t - 15] >>> 3);
          var s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ (w[t - 2] >>> 10);
          w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
        }
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (t = 0; t < 64; t++) {
        var t1 = (k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[t] +
          w[t]) | 0;
        var t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h = [h[0] + a | 0, h[1] + b | 0, h[2] + c | 0, h[3] + d | 0, h[4] + e | 0, h[5] + f | 0,
        h[6] + g | 0, h[7] + k | 0];
    }
    var out = [];
    h.forEach(function (word) {
      out.push((word >>> 24) & 255, (word >>> 16) & 255, (word >>> 8) & 255, word & 255);
    });
    return out;
  }

  function hmacHex(key, message) {
    var keyBytes = utf8(key);
    if (keyBytes.length > 64) keyBytes = sha256(keyBytes);
    while (keyBytes.length < 64) keyBytes.push(0);
    var inner = keyBytes.map(function (x) { return x ^ 0x36; });
    var outer = keyBytes.map(function (x) { return x ^ 0x5c; });
    var digest = sha256(outer.concat(sha256(inner.concat(utf8(message)))));
    return digest.map(function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join("");
  }

  function hashAccount(salt, account) {
    return hmacHex(salt, account).slice(0, 16);
  }

  /* -- The index, prepared once per object -- */

  var prepared = typeof WeakMap !== "undefined" ? new WeakMap() : null;

  // Serial numbers are decimal text without leading zeros: compare by length, then text.
  function compareNumbers(a, b) {
    return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  }

  function splitSerial(serial) {
    serial = serial.trim();
    var match = /^([\s\S]*?)([0-9]{1,18})$/.exec(serial);
    if (!match) return [serial.toUpperCase(), null];
    return [match[1].toUpperCase(), match[2].replace(/^0+(?=[0-9])/, "")];
  }

  function prepare(index) {
    var ix = prepared && prepared.get(index);
    if (ix) return ix;
    var products = index.products || [];
    var accounts = index.accounts || {};
    var codes = index.postcodes || [];
    ix = {
      raw: index,
      isService: index.kind === "service",
      names: products.map(function (p) { return p.name; }),
      gtins: {},
      lots: new Set(index.lots || []),
      ranges: {},
      salt: String(accounts.salt || ""),
      accounts: new Set(accounts.hashes || []),
      postcodes: new Set(codes.filter(function (p) { return p.slice(-1) !== "*"; })),
      prefixes: codes.filter(function (p) { return p.slice(-1) === "*"; })
        .map(function (p) { return p.slice(0, -1); }),
      areas: new Set(index.areas || [])
    };
    var withGtin = 0;
    products.forEach(function (p) {
      if (p.gtin) {
        if (!(p.gtin in ix.gtins)) withGtin += 1;
        ix.gtins[p.gtin] = p.name;
      }
    });
    ix.gtinsComplete = products.length > 0 && withGtin === products.length;
    (index.serials || []).forEach(function (row) {
      var table = ix.ranges[row[0]] || (ix.ranges[row[0]] = []);
      table.push([String(row[1]), String(row[2])]);
    });
    ix.hasSerials = Object.keys(ix.ranges).length > 0;
    if (prepared) prepared.set(index, ix);
    return ix;
  }

  function hasSerial(ix, serial) {
    var split = splitSerial(serial);
    var table = Object.prototype.hasOwnProperty.call(ix.ranges, split[0]) && ix.ranges[split[0]];
    if (split[1] === null || !table) return false;
    var low = 0, high = table.length;
    while (low < high) {
      var mid = (low + high) >> 1;
      if (compareNumbers(table[mid][0], split[1]) <= 0) low = mid + 1; else high = mid;
    }
    return low > 0 && compareNumbers(table[low - 1][1], split[1]) >= 0;
  }

  function postcodeMatches(ix, postcode, withAreas) {
    var code = postcode.replace(/ /g, "");
    if (ix.postcodes.has(code)) return true;
    for (var i = 0; i < ix.prefixes.length; i++) {
      if (code.indexOf(ix.prefixes[i]) === 0) return true;
    }
    return withAreas && (ix.areas.has(code) || ix.areas.has(postcode.split(" ")[0]));
  }

  /* -- Answering -- */

  function result(outcome, reason, product) {
    return { outcome: outcome, reason: reason, product: product || "" };
  }

  function date(iso) {
    var parts = iso.split("-");
    return Number(parts[2]) + " " + MONTHS[Number(parts[1]) - 1] + " " + Number(parts[0]);
  }

  function windowText(span) {
    if (!span) return "";
    if (span.from && span.to) return "between " + date(span.from) + " and " + date(span.to);
    if (span.from) return "from " + date(span.from) + " on";
    return span.to ? "up to " + date(span.to) : "";
  }

  function names(list) {
    if (list.length > 5) return list.slice(0, 5).join(", ") + " and " + (list.length - 5) + " more";
    return list.join(", ");
  }

  function conditions(ix, query, base, product) {
    var index = ix.raw;
    var phrases = [];
    var checks = [];
    if (index.dates) {
      if (index.dates.basis === "acquired") {
        phrases.push("bought " + windowText(index.dates));
        checks.push("the date on your receipt");
      } else {
        phrases.push("made " + windowText(index.dates));
        checks.push("the manufacturing date on the label");
      }
    }
    var where = [];
    if (index.regions && index.regions.length) where.push("sold in " + index.regions.join(", "));
    if (index.postcodes && index.postcodes.length &&
        !(query.postcode && postcodeMatches(ix, query.postcode, false))) {
      where.push("sold in postcodes " + index.postcodes.join(", "));
    }
    if (where.length) {
      phrases = phrases.concat(where);
      checks.push("where you bought it");
    }
    if (!phrases.length) return result("affected", base + " " + DO_RECALL, product);
    return result("check", base + " Only units " + phrases.join(" and ") +
      " are affected: check " + checks.join(" and ") + ".", product);
  }

  function answerRecall(ix, query) {
    if (!(query.gtin || query.lot || query.serial)) {
      return result("check", "Enter the barcode number (GTIN) and the lot code or serial " +
        "number printed on the product.");
    }
    var product = "";
    if (query.gtin) {
      product = Object.prototype.hasOwnProperty.call(ix.gtins, query.gtin) ?
        ix.gtins[query.gtin] : "";
      if (!product && ix.gtinsComplete) {
        return result("not_affected", "This product is not part of this recall, which " +
          "covers " + names(ix.names) + ". Check the barcode number printed under the barcode.");
      }
    }
    if (ix.raw.all_units) {
      if (product) {
        return conditions(ix, query, "Every unit of " + product + " is part of this recall.",
          product);
      }
      return result("check", "Every unit of " + names(ix.names) + " is part of this recall. " +
        "Check that your product is one of them: enter the barcode number (GTIN) printed " +
        "under the barcode.");
    }
    var hit = "";
    if (query.lot && ix.lots.has(query.lot)) hit = "Lot " + query.lot;
    else if (query.serial && hasSerial(ix, query.serial)) hit = "Serial number " + query.serial;
    if (hit) {
      var base = hit + (product ? " of " + product : "") + " is part of this recall.";
      if (!product && ix.names.length) base += " The recall covers " + names(ix.names) + ".";
      return conditions(ix, query, base, product);
    }
    var lotChecked = Boolean(query.lot && ix.lots.size);
    var serialChecked = Boolean(query.serial && ix.hasSerials);
    if (lotChecked && serialChecked) {
      return result("not_affected", "Lot " + query.lot + " and serial number " + query.serial +
        " are not part of this recall. Check that you entered them exactly as printed: the " +
        "lot code " + LOT_WHERE + ", the serial number " + SERIAL_WHERE + ".", product);
    }
    if (lotChecked) {
      return result("not_affected", "Lot " + query.lot + " is not part of this recall. Check " +
        "that you entered the lot code exactly as " + LOT_WHERE + ".", product);
    }
    if (serialChecked) {
      return result("not_affected", "Serial number " + query.serial + " is not part of this " +
        "recall. Check that you entered the serial number exactly as " + SERIAL_WHERE + ".",
        product);
    }
    if (!(ix.lots.size || ix.hasSerials)) {
      return result("not_affected", "This recall does not list any units yet.", product);
    }
    var need;
    if (ix.lots.size && ix.hasSerials) {
      need = "the lot code (" + LOT_WHERE + ") or the serial number (" + SERIAL_WHERE + ")";
    } else if (ix.lots.size) {
      need = "the lot code, " + LOT_WHERE + ",";
    } else {
      need = "the serial number, " + SERIAL_WHERE + ",";
    }
    var some = product ? "Some units of " + product + " are" : "Some units are";
    return result("check", some + " part of this recall. Enter " + need +
      " to find out whether yours is one.", product);
  }

  function answerService(ix, query) {
    var span = windowText(ix.raw.outage);
    var during = span ? " " + span : "";
    if (query.account && ix.accounts.has(hashAccount(ix.salt, query.account))) {
      return result("affected", "This account is affected by the service failure" + during +
        ". " + DO_SERVICE);
    }
    var areas = ix.postcodes.size > 0 || ix.prefixes.length > 0 || ix.areas.size > 0;
    if (query.postcode && areas && postcodeMatches(ix, query.postcode, true)) {
      return result("affected", "The area of postcode " + query.postcode + " is affected by " +
        "the service failure" + during + ". " + DO_SERVICE);
    }
    if (query.account && ix.accounts.size) {
      return result("not_affected", "This account number is not on the list of affected " +
        "accounts. Check the account number printed on your bill.");
    }
    if (query.postcode && areas) {
      if (ix.accounts.size) {
        return result("check", "Postcode " + query.postcode + " is not in the affected area, " +
          "but some accounts elsewhere are affected: enter the account number printed on " +
          "your bill.");
      }
      return result("not_affected", "Postcode " + query.postcode + " is not in the affected " +
        "area. Check that you entered the postcode of the address where you receive the " +
        "service.");
    }
    if (!(ix.accounts.size || areas)) {
      var services = (ix.raw.services || []).join(", ");
      if (services) {
        return result("check", "Every customer of " + services + " is affected" + during +
          ": check which service you have.");
      }
      return result("not_affected", "This service failure does not list any accounts or " +
        "areas yet.");
    }
    var need;
    if (ix.accounts.size && areas) {
      need = "your account number (printed on your bill) or your postcode";
    } else if (ix.accounts.size) {
      need = "your account number, printed on your bill,";
    } else {
      need = "the postcode of the address where you receive the service";
    }
    return result("check", "Enter " + need + " to find out whether you are affected.");
  }

  /* Whether what the query describes is affected: {outcome, reason, product}. */
  function answer(index, query) {
    if (!query || query.error) return result("unreadable", (query && query.error) || "");
    var ix = prepare(index);
    return ix.isService ? answerService(ix, query) : answerRecall(ix, query);
  }

  /* -- The form -- */

  var HEADINGS = {
    affected: "Affected.",
    not_affected: "Not affected.",
    check: "Please check.",
    unreadable: "We could not read that."
  };

  function show(output, found) {
    if (!output) return;
    while (output.firstChild) output.removeChild(output.firstChild);
    var heading = document.createElement("strong");
    heading.textContent = HEADINGS[found.outcome] || "";
    output.appendChild(heading);
    output.appendChild(document.createTextNode(" " + found.reason));
    output.setAttribute("data-outcome", found.outcome);
    output.hidden = false;
  }

  function wireScan(form, button, run, output) {
    var supported = "BarcodeDetector" in window && navigator.mediaDevices &&
      typeof navigator.mediaDevices.getUserMedia === "function";
    button.hidden = !supported;
    if (!supported) return;
    var wanted = ["qr_code", "data_matrix", "ean_13", "ean_8", "upc_a", "upc_e", "code_128"];
    button.addEventListener("click", async function () {
      var stream = null;
      var video = null;
      var stop = function () {
        if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
        if (video && video.parentNode) video.parentNode.removeChild(video);
        button.disabled = false;
      };
      try {
        button.disabled = true;
        var known = await window.BarcodeDetector.getSupportedFormats();
        var formats = wanted.filter(function (f) { return known.indexOf(f) >= 0; });
        if (!formats.length) {
          button.hidden = true;
          return;
        }
        var detector = new window.BarcodeDetector({ formats: formats });
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        video = document.createElement("video");
        video.setAttribute("playsinline", "");
        video.muted = true;
        video.srcObject = stream;
        video.className = "lookup-camera";
        button.parentNode.insertBefore(video, button.nextSibling);
        await video.play();
        // About a minute of looking, four times a second, then give the camera back.
        for (var tries = 0; tries < 240; tries++) {
          var codes = await detector.detect(video);
          if (codes.length) {
            var input = form.elements.namedItem("code");
            if (input) input.value = codes[0].rawValue;
            stop();
            run();
            return;
          }
          await new Promise(function (resolve) { setTimeout(resolve, 250); });
        }
        stop();
      } catch (error) {
        stop();
        show(output, result("unreadable", "The camera could not be used: type the numbers " +
          "printed under the barcode instead."));
      }
    });
  }

  function wire(form) {
    var output = form.querySelector("[data-lookup-result]") ||
      document.querySelector("[data-lookup-result]");
    if (output && !output.hasAttribute("role")) output.setAttribute("role", "status");
    var index = null;
    var failed = false;
    var loading = fetch(form.getAttribute("data-lookup-index"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (data) { index = data; }, function () { failed = true; });

    function fields() {
      var values = {};
      FIELDS.forEach(function (name) {
        var input = form.elements.namedItem(name);
        values[name] = input && "value" in input ? input.value : "";
      });
      return values;
    }

    function run() {
      if (index) {
        show(output, answer(index, parse(fields())));
        return;
      }
      loading.then(function () {
        if (index) show(output, answer(index, parse(fields())));
        else {
          show(output, result("unreadable", "The lookup could not be loaded: check your " +
            "connection and try again."));
        }
      });
    }

    form.addEventListener("submit", function (event) {
      // Without the index (it failed to load) a form with an action still asks the server.
      if (failed && form.getAttribute("action")) return;
      event.preventDefault();
      run();
    });
    var scan = form.querySelector("[data-lookup-scan]");
    if (scan) wireScan(form, scan, run, output);
  }

  function wireAll() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-lookup-index]"), wire);
    // The live site asks the server (which counts the lookup and answers in the reader's
    // language); there the camera only fills in the code and sends the form.
    Array.prototype.forEach.call(
      document.querySelectorAll("form[data-lookup-server]"),
      function (form) {
        var scan = form.querySelector("[data-lookup-scan]");
        if (scan) {
          wireScan(form, scan, function () {
            if (form.requestSubmit) form.requestSubmit();
            else form.submit();
          }, null);
        }
      }
    );
  }

  window.RecalldeskLookup = {
    parse: parse,
    answer: answer,
    fold: fold,
    hashAccount: hashAccount,
    hmacSha256Hex: hmacHex,
    wire: wire
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wireAll);
  } else {
    wireAll();
  }
})();

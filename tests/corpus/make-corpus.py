#!/usr/bin/python3
"""Writes the corpus messages (NAME.eml). The .eml files are the source of
truth; this only documents how they were made. 30-8bit-garbage is
written without a NUL byte (IMAP APPEND cannot carry one in a literal)."""
import os, base64
D = os.path.dirname(os.path.abspath(__file__))
def w(name, text, crlf=True):
    data = text.encode("utf-8") if isinstance(text, str) else text
    if crlf:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    open(os.path.join(D, name + ".eml"), "wb").write(data)

pdf = base64.encodebytes(bytes(range(256)) * 3).decode()
png = base64.encodebytes(b"\x89PNG\r\n\x1a\n" + bytes(200)).decode()

w("01-plain", """Return-Path: <alice@example.org>
Received: from mx.example.org (mx.example.org [192.0.2.1])
	by mail.example.net with ESMTPS id 4F2B
	for <bob@example.net>; Tue, 14 Mar 2023 09:12:45 +0100
Date: Tue, 14 Mar 2023 09:12:40 +0100
From: Alice Example <alice@example.org>
To: Bob <bob@example.net>
Subject: Lunch on Thursday?
Message-ID: <20230314081240.GA1234@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Disposition: inline

Hi Bob,

are you free for lunch on Thursday?

Alice
""")

w("02-alternative", """Date: Wed, 15 Mar 2023 17:01:02 -0500
From: "Newsletter Team" <news@shop.example.com>
To: customer@example.net
Subject: Spring sale: 20% off everything
Message-ID: <abc.123@shop.example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative;
	boundary="----=_Part_12345_67890.1678917662"

------=_Part_12345_67890.1678917662
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Spring sale! Everything 20% off until Sunday.=0A
Visit https://shop.example.com/sale?utm=3Dnews

------=_Part_12345_67890.1678917662
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

<html><body><h1>Spring sale!</h1><p>Everything 20% off until Sund=
ay.</p></body></html>

------=_Part_12345_67890.1678917662--
""")

w("03-attachment", """Date: Thu, 16 Mar 2023 10:00:00 +0000
From: Carol <carol@example.com>
To: Dave <dave@example.com>, Erin <erin@example.com>
Cc: team@example.com
Subject: Q1 report
Message-ID: <q1report@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=-=-=attach"

This is a multi-part message in MIME format.

--=-=-=attach
Content-Type: text/plain; charset=utf-8; format=flowed
Content-Transfer-Encoding: 7bit

Please find the Q1 report attached.

--=-=-=attach
Content-Type: application/pdf; name="Q1 report.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="Q1 report.pdf"; size=768
Content-ID: <part1.q1@example.com>
Content-Description: Quarterly report

""" + pdf + """
--=-=-=attach
Content-Type: image/png
Content-Transfer-Encoding: base64
Content-Disposition: inline; filename=chart.png

""" + png + """--=-=-=attach--
""")

w("04-forward-rfc822", """Date: Fri, 17 Mar 2023 08:30:00 +0100
From: Frank <frank@example.org>
To: Grace <grace@example.org>
Subject: Fwd: Meeting notes
Message-ID: <fwd1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer-boundary"

--outer-boundary
Content-Type: text/plain; charset=us-ascii

See the forwarded message below.

--outer-boundary
Content-Type: message/rfc822
Content-Disposition: inline

Date: Thu, 16 Mar 2023 16:00:00 +0100
From: Heidi <heidi@example.org>
To: Frank <frank@example.org>
Subject: Meeting notes
Message-ID: <notes@example.org>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="inner-boundary"

--inner-boundary
Content-Type: text/plain; charset=us-ascii

1. Budget
2. Hiring

--inner-boundary
Content-Type: text/html; charset=us-ascii

<ol><li>Budget</li><li>Hiring</li></ol>

--inner-boundary--

--outer-boundary--
""")

w("05-mixed-in-alternative", """Date: Sat, 18 Mar 2023 12:00:00 +0000
From: Ivan <ivan@example.com>
To: Judy <judy@example.com>
Subject: Photos
Message-ID: <photos@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

Photos attached (see HTML version).

--alt
Content-Type: multipart/related; boundary="rel"; type="text/html"

--rel
Content-Type: text/html; charset=utf-8

<p>Look: <img src="cid:img1@example.com"></p>

--rel
Content-Type: image/png; name="a.png"
Content-Transfer-Encoding: base64
Content-ID: <img1@example.com>

""" + png + """--rel--

--alt
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain

inner mixed text
--mix
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAECAwQF
--mix--
--alt--
""")

w("06-encoded-words", """Date: Sun, 19 Mar 2023 21:15:00 +0900
From: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@example.jp>
To: =?iso-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>,
 "=?utf-8?q?Fran=C3=A7ois?=" <francois@example.fr>
Subject: =?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN?=
 =?UTF-8?Q?_and_more_text?=
Message-ID: <ew@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

\u3053\u3093\u306b\u3061\u306f
""")

w("07-groups", """Date: Mon, 20 Mar 2023 07:00:00 -0800
From: Mallory <mallory@example.com>
Sender: list-bounces@lists.example.com
Reply-To: Discussion List <list@lists.example.com>
To: undisclosed-recipients:;
Cc: Friends: peggy@example.com, "Trent T." <trent@example.com>;, victor@example.com (Victor V.),
 <@relay1.example,@relay2.example:walter@example.com>
Bcc: A Group:;
Subject: group addresses
In-Reply-To: <prev@example.com>
References: <first@example.com> <prev@example.com>
Message-ID: <groups@example.com>

Body.
""")

w("08-no-from", """Date: Tue, 21 Mar 2023 11:11:11 +0000
To: nobody@example.com
Subject: no from header
Message-ID: <nofrom@example.com>

There is no From field in this message.
""")

w("09-empty-subject", """Date: 
From: sender@example.com
To: 
Subject:
Message-ID: 

empty fields
""")

w("10-8bit-headers", """Date: Wed, 22 Mar 2023 13:00:00 +0100
From: J\u00f6rg M\u00fcller <joerg@example.de>
To: ren\u00e9@example.fr
Subject: Gr\u00fc\u00dfe aus K\u00f6ln
Message-ID: <8bit@example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Sch\u00f6ne Gr\u00fc\u00dfe!
""")

w("11-malformed-boundary", """Date: Thu, 23 Mar 2023 09:00:00 +0000
From: broken@example.com
To: you@example.com
Subject: boundary never used
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="declared-boundary"

--other-boundary
Content-Type: text/plain

text that sits in the preamble because the boundary differs
--other-boundary--
""")

w("12-missing-final-boundary", """Date: Fri, 24 Mar 2023 09:00:00 +0000
From: broken@example.com
To: you@example.com
Subject: no final boundary
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=XYZ

--XYZ
Content-Type: text/plain

first part
--XYZ
Content-Type: text/plain

second part, message ends without --XYZ--
and another line
""")

w("13-bare-lf", """Date: Sat, 25 Mar 2023 10:00:00 +0000
From: unix@example.com
To: you@example.com
Subject: bare LF line ends
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="lf"

--lf
Content-Type: text/plain

line one
line two

--lf
Content-Type: text/x-patch; name=fix.diff
Content-Disposition: attachment; filename=fix.diff

--- a/x
+++ b/x
@@ -1 +1 @@
-old
+new

--lf--
""", crlf=False)

w("14-no-body", """Date: Sun, 26 Mar 2023 10:00:00 +0000
From: headers@example.com
To: you@example.com
Subject: headers only, no blank line
Message-ID: <nobody@example.com>""")

w("15-ctype-garbage", """Date: Mon, 27 Mar 2023 10:00:00 +0000
From: spam@example.com
To: you@example.com
Subject: garbage content type
MIME-Version: 1.0
Content-Type: garbage;;; ===; charset
Content-Transfer-Encoding: 7bit

body with a broken content type
""")

w("16-digest", """Date: Tue, 28 Mar 2023 10:00:00 +0000
From: list-digest@lists.example.com
To: subscriber@example.com
Subject: Example list digest, Vol 1, Issue 2
MIME-Version: 1.0
Content-Type: multipart/digest; boundary="digest-b"

--digest-b

Date: Mon, 27 Mar 2023 09:00:00 +0000
From: one@example.com
Subject: first post

First post body.

--digest-b

Date: Mon, 27 Mar 2023 10:00:00 +0000
From: two@example.com
Subject: second post

Second post body.

--digest-b
Content-Type: text/plain

A text part inside the digest.

--digest-b--
""")

w("17-rfc2231", """Date: Wed, 29 Mar 2023 10:00:00 +0000
From: params@example.com
To: you@example.com
Subject: RFC 2231 parameters
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="p2231"

--p2231
Content-Type: text/plain (plain text) ; charset = "us-ascii" (ascii) ; format="fl\\"owed"

comments and quoted-pairs in the content type
--p2231
Content-Type: application/octet-stream;
 name*0="very long file";
 name*1=" name.bin"
Content-Disposition: attachment;
 filename*0*=utf-8''%E2%82%AC%20rates;
 filename*1*=%20%C3%A4.txt

AAAA
--p2231
Content-Type: application/octet-stream; name*=iso-8859-1'de'Gr%FC%DFe.bin
Content-Disposition: attachment; filename*=utf-8''%C3%A9t%C3%A9.bin

BBBB
--p2231--
""")

w("18-no-mime-version", """Date: Thu, 30 Mar 2023 10:00:00 +0000
From: old@example.com
To: you@example.com
Subject: html without MIME-Version
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

<p>Hello</p>
""")

w("19-nested-deep", """Date: Fri, 31 Mar 2023 10:00:00 +0000
From: outer@example.com
To: you@example.com
Subject: Fwd: Fwd: nested
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="L1"

--L1
Content-Type: text/plain

outer text
--L1
Content-Type: message/rfc822

From: middle@example.com
To: outer@example.com
Subject: Fwd: nested
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="L2"

--L2
Content-Type: text/plain

middle text
--L2
Content-Type: message/rfc822

From: inner@example.com
To: middle@example.com
Subject: nested
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

innermost body
line 2
--L2--
--L1
Content-Type: text/plain

trailer
--L1--
""")

w("20-quoted-specials", """Date: Sat, 1 Apr 2023 10:00:00 +0000
From: "Smith, John \\"JJ\\"" <john.smith@example.com>
To: "back\\\\slash" <bs@example.com>
Subject: "quoted" subject with \\backslash\\ and "more" "quotes"
Message-ID: <"weird"@example.com>
In-Reply-To: <a@b> (comment)

quotes
""")

w("21-duplicate-headers", """Date: Sun, 2 Apr 2023 10:00:00 +0000
Date: Mon, 3 Apr 2023 10:00:00 +0000
From: first@example.com
From: second@example.com
To: a@example.com
To: b@example.com
Subject: first subject
Subject: second subject
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Type: text/html

duplicates
""")

w("22-multipart-no-boundary", """Date: Mon, 3 Apr 2023 10:00:00 +0000
From: nob@example.com
To: you@example.com
Subject: multipart without boundary
MIME-Version: 1.0
Content-Type: multipart/mixed; foo=bar

--whatever
Content-Type: text/plain

text
--whatever--
""")

w("23-language-location", """Date: Tue, 4 Apr 2023 10:00:00 +0000
From: loc@example.com
To: you@example.com
Subject: language and location
MIME-Version: 1.0
Content-Type: MULTIPART/Mixed; Boundary="LL"
Content-Language: en

--LL
Content-Type: TEXT/PLAIN; Charset=UTF-8; Format=Flowed
Content-Transfer-Encoding: QUOTED-PRINTABLE
Content-Language: en, de (German)
Content-Location: http://example.com/text.txt
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: INLINE; Creation-Date="Tue, 4 Apr 2023 10:00:00 +0000"
Content-ID: <text@example.com>

hello
--LL
Content-Type: application/json
Content-Description: data
	folded over two lines

{}
--LL--
""")

w("24-empty-multipart", """Date: Wed, 5 Apr 2023 10:00:00 +0000
From: empty@example.com
To: you@example.com
Subject: multipart with no parts
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="E"

--E--
""")

w("25-boundary-in-header", """Date: Thu, 6 Apr 2023 10:00:00 +0000
From: hdr@example.com
To: you@example.com
Subject: boundary inside a header and empty parts
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="H"

preamble line
--H
Content-Type: text/plain
X-Header: the next line is a boundary
--H

part without a header
--H
--H
Content-Type: text/html

<b>last</b>
--H--
epilogue line
""")

w("26-missing-blank-line", """Date: Fri, 7 Apr 2023 10:00:00 +0000
From: noblank@example.com
To: you@example.com
Subject: no blank line after the header
This line is the start of the body but has no blank line before it.
And a second line.
""")

received = "".join("Received: from hop%d.example.net by hop%d.example.net; Sat, 8 Apr 2023 10:00:%02d +0000\n" % (i, i + 1, i % 60) for i in range(600))
w("27-many-headers", received + """Date: Sat, 8 Apr 2023 10:00:00 +0000
From: hops@example.com
To: you@example.com
Subject: six hundred Received lines
X-Folded: a
 b
	c

body
""")

w("28-mixed-line-ends", b"Date: Sun, 9 Apr 2023 10:00:00 +0000\r\nFrom: mixed@example.com\nTo: you@example.com\r\nSubject: tabs\tand  double  spaces\r\n\tcontinued\r\nContent-Type: text/plain\n\r\nline 1\nline 2\r\nline 3 no newline", crlf=False)

inner = """From: attached@example.com
To: you@example.com
Subject: base64 encoded message/rfc822

inner body
"""
w("29-rfc822-base64", """Date: Mon, 10 Apr 2023 10:00:00 +0000
From: b64@example.com
To: you@example.com
Subject: message/rfc822 with base64
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B6"

--B6
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

""" + base64.encodebytes(inner.replace("\n", "\r\n").encode()).decode() + """--B6--
""")

w("30-8bit-garbage", b"Date: Tue, 11 Apr 2023 10:00:00 +0000\r\nFrom: \xff\xfe garbage <g@example.com>\r\nTo: you@example.com\r\nSubject: \x80\x81\x82 bytes\r\nContent-Type: text/plain; charset=\"\xe9\xe9\"\r\nMIME-Version: 1.0\r\n\r\n\x01\x02\x03 binary \xff body\r\n", crlf=False)

w("31-address-edge-cases", """Date: Wed, 12 Apr 2023 10:00:00 +0000
From: user-without-domain
Sender: <>
Reply-To: "quoted local"@example.com, "Name Only"
To: john@example.com (John Comment), jane@example.com (first) (second),
 "" <empty-name@example.com>, <angle-only@example.com>, Mixed Case <MiXeD@Example.COM>
Cc: Group One: a@example.com, b@example.com;, Group Two:;, c@example.com
Bcc: @,,, ;; <bad@> , broken@ , @nolocal.example
Subject: address edge cases
Message-ID: <folded-id
 @example.com>
In-Reply-To: <x@example.com> <y@example.com>

body
""")

w("32-disposition-edge", """Date: Thu, 13 Apr 2023 10:00:00 +0000
From: disp@example.com
To: you@example.com
Subject: disposition and parameter edge cases
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="D"

--D
Content-Type: text/plain; charset="utf-8"; CHARSET=latin1; name="a\\\\b\\"c\\"d\\"e\\"f"
Content-Disposition: inline
Content-Disposition: attachment; filename=second.txt

two dispositions, odd parameters
--D
Content-Type: application/octet-stream; name=x.bin; name=y.bin
Content-Disposition: attachment; filename="=?utf-8?q?caf=C3=A9?=.bin"
Content-Transfer-Encoding: Base64
Content-Description: =?utf-8?q?caf=C3=A9?=
Content-ID: <id@x>

AAAA
--D
Content-Type: text/enriched
Content-Language: EN-us,fr-CA

<bold>x</bold>
--D--
""")

w("33-address-garbage", """Date: Fri, 14 Apr 2023 10:00:00 +0000
From: Broken Angle <bad@>
Sender: Two Words
Reply-To: <unclosed@example.com
To: a@example.com,, b@example.com, , c@example.com
Cc: ok@example.com garbage after, never@example.com
Bcc: "Quoted" <q@example.com> (comment), =?utf-8?q?J=C3=B6rg?= <j@example.com>
Subject: address garbage

body
""")

w("34-toplevel-rfc822", """Date: Sat, 15 Apr 2023 10:00:00 +0000
From: wrapper@example.com
To: you@example.com
Subject: the whole body is a message
MIME-Version: 1.0
Content-Type: message/rfc822

From: wrapped@example.com
Subject: wrapped
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=W

--W
Content-Type: text/plain

wrapped text
--W
Content-Type: text/html

<p>wrapped</p>
--W--
""")

w("35-odd-header-lines", """Date: Sun, 16 Apr 2023 10:00:00 +0000
From : spaced-name@example.com
 To: continuation-looking line
: empty name
Subject: odd header lines
X-Long: """ + "x" * 3000 + """
Content-Type: text/plain;
	charset="iso-8859-1"
Content-Transfer-Encoding:
	quoted-printable

caf=E9
""")

import{j as n,L as i}from"./vendor-dKd0x1-A.js";function e({to:r,children:s}){return n.jsx("p",{children:n.jsxs(i,{to:r,children:["← ",s]})})}export{e as B};
